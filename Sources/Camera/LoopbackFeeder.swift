// LoopbackFeeder: writes frames into a v4l2loopback device so tests drive the real capture path.
import CV4L2
import Threading

#if canImport(Glibc)
import Glibc
#endif

/// Writes frames into a `v4l2loopback` device, which then shows them to readers as a camera.
/// The test suites use it to push real face images through the real capture path; it is not
/// part of the product API.
///
/// Owns the output fd on its own thread (v4l2loopback forgets the format when the last
/// writer closes, so the fd stays open until `stop()`).
final class LoopbackFeeder: Sendable {
    private let stopFlag = StopFlag()
    private let finished = StopFlag()

    /// Opens `device` for output with `fourcc` at `width`×`height`, writes `frame` once (so
    /// readers can open it), then keeps writing it at `framesPerSecond` until `stop()`.
    init(device: String, width: Int, height: Int, pixelFormat: CapturePixelFormat, frame: [UInt8], framesPerSecond: Double = 15)
        throws(CameraError)
    {
        let fd = open(device, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw .deviceCall(device: device, call: "open", errno: errno) }
        var format = v4l2_format()
        format.type = CV4L2_BUF_TYPE_VIDEO_OUTPUT
        format.fmt.pix.width = UInt32(width)
        format.fmt.pix.height = UInt32(height)
        format.fmt.pix.pixelformat = pixelFormat.code
        format.fmt.pix.field = UInt32(V4L2_FIELD_NONE.rawValue)
        format.fmt.pix.bytesperline = UInt32(width * pixelFormat.bytesPerPixel)
        format.fmt.pix.sizeimage = UInt32(
            pixelFormat == .mjpeg ? max(frame.count, width * height) : width * height * pixelFormat.bytesPerPixel)
        if cv4l2_raw_ioctl(fd, CV4L2_VIDIOC_S_FMT, &format) != 0 {
            let code = errno
            close(fd)
            throw .deviceCall(device: device, call: "VIDIOC_S_FMT(output)", errno: code)
        }
        guard LoopbackFeeder.write(fd, frame) else {
            let code = errno
            close(fd)
            throw .deviceCall(device: device, call: "write", errno: code)
        }
        let stop = stopFlag, done = finished
        let period = Duration.milliseconds(Int64(1000 / max(framesPerSecond, 1)))
        let refused = DedicatedThread.start {
            while !stop.isStopped {
                CaptureThread.sleep(period, unless: stop.flag)
                _ = LoopbackFeeder.write(fd, frame)
            }
            close(fd)
            done.stop()
        }
        if let refused {
            close(fd)
            throw .deviceCall(device: device, call: "pthread_create", errno: refused)
        }
    }

    /// Stops writing and closes the device (waits up to a second for the thread).
    func stop() {
        stopFlag.stop()
        for _ in 0..<100 where !finished.isStopped { usleep(10_000) }
    }

    private static func write(_ fd: Int32, _ frame: [UInt8]) -> Bool {
        frame.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == frame.count
    }
}
