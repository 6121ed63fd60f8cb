import ConciergeModels

extension EngineState {
    /// Assigns waiting conversations of the given inboxes while eligible members have room: per
    /// channel, across all those inboxes, the highest-priority line's oldest conversation first, placed
    /// by its own inbox's strategy (an inbox with nobody free is passed over). Every assignment is
    /// announced to the conversations service through the outbox. Returns how many were assigned.
    @discardableResult
    mutating func drain(_ inboxIDs: some Sequence<String>, _ tx: RoutingTransaction) throws -> Int {
        var assigned = 0
        let candidates = Set(inboxIDs).filter { inboxes[$0] != nil }
        guard !candidates.isEmpty else { return 0 }
        for channel in Channel.allCases {
            var full = Set<String>()
            while true {
                let lineKeys = candidates.subtracting(full).flatMap { inboxID in
                    ([WaitingLines.implicitKey(inboxID)] + (queueIDsByInbox[inboxID] ?? [])).map { ($0, inboxID) }
                }
                guard let (next, inboxID) = nextWaiting(lineKeys, channel: channel) else { break }
                var trace = [TraceStep(step: "drain", outcome: "capacity appeared in inbox \(inboxID)")]
                guard let agentID = pickMember(of: inboxID, channel: channel, strategy: nil, trace: &trace) else {
                    full.insert(inboxID)
                    continue
                }
                if let pointer = inboxes[inboxID]?.pointer {
                    try tx.savePointer(inboxID: inboxID, pointer: pointer)
                }
                let record = try assign(next, to: agentID, inboxID: inboxID, channel: channel, tx)
                trace.append(TraceStep(step: "assign", outcome: "assigned to agent \(agentID) after waiting"))
                try tx.announce(result(next, record, trace: trace))
                assigned += 1
            }
        }
        return assigned
    }

    /// The conversation to serve next among the lines on `channel`, with the inbox whose line it is
    /// in: highest priority, then oldest.
    private mutating func nextWaiting(_ lineKeys: [(key: String, inboxID: String)], channel: Channel) -> (
        String, String
    )? {
        var best: (id: String, inboxID: String, priority: Int, since: Int64)?
        for (key, inboxID) in lineKeys {
            // Only `lines` changes while peeking, so reading `assignments` through a copy costs no copy.
            let current = assignments
            guard
                let head = lines.peek(
                    line: key, channel: channel.rawValue,
                    isWaiting: { id, since in
                        current[id].map { $0.state == .queued && $0.waitingSince == since } ?? false
                    })
            else { continue }
            let priority = assignments[head.id]?.priority ?? 0
            if let leader = best,
                leader.priority > priority || (leader.priority == priority && leader.since <= head.since)
            {
                continue
            }
            best = (head.id, inboxID, priority, head.since)
        }
        return best.map { ($0.id, $0.inboxID) }
    }
}
