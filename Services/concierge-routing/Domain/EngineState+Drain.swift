import Models
import Storage

extension EngineState {
    /// Assigns waiting conversations of the given inboxes while eligible members have room: per
    /// channel, the highest-priority line's oldest conversation first. Every assignment is announced
    /// to the conversations service through the outbox. Returns how many were assigned.
    @discardableResult
    mutating func drain(_ inboxIDs: some Sequence<String>, _ connection: Connection) throws -> Int {
        var assigned = 0
        for inboxID in Set(inboxIDs) {
            guard inboxes[inboxID] != nil else { continue }
            let lineKeys = [WaitingLines.implicitKey(inboxID)] + (queueIDsByInbox[inboxID] ?? [])
            for channel in Channel.allCases {
                while let next = nextWaiting(lineKeys, channel: channel) {
                    var trace = [TraceStep(step: "drain", outcome: "capacity appeared in inbox \(inboxID)")]
                    guard let agentID = pickMember(of: inboxID, channel: channel, strategy: nil, trace: &trace) else { break }
                    if let pointer = inboxes[inboxID]?.pointer {
                        try RoutingStore.savePointer(connection, inboxID: inboxID, pointer: pointer)
                    }
                    let record = try assign(next, to: agentID, inboxID: inboxID, channel: channel, connection)
                    trace.append(TraceStep(step: "assign", outcome: "assigned to agent \(agentID) after waiting"))
                    try announce(result(next, record, trace: trace), connection)
                    assigned += 1
                }
            }
        }
        return assigned
    }

    /// The conversation to serve next among `lineKeys` on `channel`: highest priority, then oldest.
    private mutating func nextWaiting(_ lineKeys: [String], channel: Channel) -> String? {
        var best: (id: String, priority: Int, since: Int64)?
        for key in lineKeys {
            // Only `lines` changes while peeking, so reading `assignments` through a copy costs no copy.
            let current = assignments
            guard let head = lines.peek(line: key, channel: channel.rawValue, isWaiting: { id, since in
                current[id].map { $0.state == .queued && $0.waitingSince == since } ?? false
            })
            else { continue }
            let priority = assignments[head.id]?.priority ?? 0
            if let leader = best, leader.priority > priority || (leader.priority == priority && leader.since <= head.since) {
                continue
            }
            best = (head.id, priority, head.since)
        }
        return best?.id
    }
}
