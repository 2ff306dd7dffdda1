// DateShiftHandler: the `date-offset` fault's second half: rewrites the Date header on the wire.
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Hummingbird sets `Date` after every middleware has run, so the `date-offset` fault cannot
/// change it there: `FaultMiddleware` marks the response with the offset, and this handler,
/// between Hummingbird and the HTTP encoder, replaces `Date` with the shifted time and drops the
/// mark. Responses without the mark pass untouched.
final class DateShiftHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The internal header that carries the offset in seconds from the middleware to here.
    static let offsetField = HTTPField.Name("x-aidee-sim-date-offset")!

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        guard case .head(var head) = part, let text = head.headerFields[Self.offsetField], let offset = Int(text) else {
            context.write(data, promise: promise)
            return
        }
        head.headerFields[Self.offsetField] = nil
        head.headerFields[.date] = Self.httpDate(Date().addingTimeInterval(TimeInterval(offset)))
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }

    /// IMF-fixdate, e.g. `Sun, 06 Dec 2026 23:41:36 GMT`.
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
