import Outbox
import Storage

enum Migrations {
    static let all: [Migration] = [
        Migration(1, "outbox") { try OutboxSchema.create($0) }
    ]
}
