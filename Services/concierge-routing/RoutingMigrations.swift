import Outbox
import Storage

enum RoutingMigrations {
    static let all: [Migration] = [
        Migration(1, "outbox") { try OutboxSchema.create($0) }
    ]
}
