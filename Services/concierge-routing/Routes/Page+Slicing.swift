import ConciergeModels
import ServiceRuntime

extension Page {
    /// One page of a small list held whole (inboxes, queues, workflow versions, templates), in the
    /// order given; `limit` and `cursor` as every list takes them (SPEC §2), the cursor being the id
    /// of the previous page's last item.
    init(slicing all: [Item], query: [String: String], id: (Item) -> String) throws {
        let paging = try Paging(query: query)
        var start = 0
        if let cursor = paging.cursor {
            guard let index = all.firstIndex(where: { id($0) == cursor }) else {
                throw Problem.badRequest("The cursor is not one this service issued.", field: "cursor")
            }
            start = index + 1
        }
        let slice = Array(all[start...].prefix(paging.limit))
        let more = start + slice.count < all.count
        self.init(items: slice, nextCursor: more ? slice.last.map(id) : nil)
    }
}
