import ConciergeJSON
import ConciergeModels
import Foundation

/// One event as written and sent: `{"id", "seq", "type", "occurredAt", "service", "data"}`, with `data`
/// already encoded (the resource's JSON after the change).
public struct Event: Sendable {
    public let seq: Int64
    public let id: String
    public let type: String
    /// The agent who may see this event besides managers and services: the assignee of its
    /// conversation, or the agent whose record it is. `nil`: nobody below a team manager.
    public let audience: String?
    /// Milliseconds since 1970.
    public let occurredAt: Int64
    public let service: String
    public let data: [UInt8]

    /// The event's JSON.
    public var json: [UInt8] {
        var writer = JSONWriter(capacity: data.count + 160)
        write(to: &writer)
        return writer.bytes
    }

    /// The event as one Server-Sent Events message: `id`, `event` and `data` lines, then a blank line.
    public var serverSentEvent: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 220)
        out.append(contentsOf: "id: \(seq)\nevent: \(type)\ndata: ".utf8)
        // Our JSON has no raw line breaks (they are escaped inside strings), so it is one data line.
        out.append(contentsOf: json)
        out.append(contentsOf: "\n\n".utf8)
        return out
    }
}

extension Event: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(id)
        writer.key("seq")
        writer.int64(seq)
        writer.key("type")
        writer.string(type)
        writer.key("occurredAt")
        writer.string(Timestamp.format(Date(timeIntervalSince1970: Double(occurredAt) / 1000)))
        writer.key("service")
        writer.string(service)
        writer.key("data")
        writer.raw(data)
        writer.endObject()
    }
}
