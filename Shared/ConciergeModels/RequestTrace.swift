/// The request id of the work in progress, carried across `await`s so outgoing calls send it on.
public enum RequestTrace {
    @TaskLocal public static var requestID: String?
}
