// The C shims: one small real call into libcurl, TurboJPEG, V4L2, libgpiod, OpenCV dnn and dlib each.
import CCurl
import CFaceMatch
import CGPIOD
import CTurboJPEG
import CV4L2
import CVision
import Foundation
import TestSupport
import Testing

/// One small real call into each system library, proving the shim links and works.
@Suite("C shims")
struct ShimTests {
    @Test("libcurl: version and an easy handle with a variadic option set through the shim")
    func curl() throws {
        let version = String(cString: curl_version())
        #expect(version.hasPrefix("libcurl/"))
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1) == CURLE_OK)
        #expect(ccurl_setopt_string(handle, CURLOPT_URL, "http://127.0.0.1:9/") == CURLE_OK)
    }

    @Test("TurboJPEG: compress a gray image and read its header back")
    func turboJPEG() throws {
        let width: Int32 = 64, height: Int32 = 48
        let pixels = [UInt8](repeating: 128, count: Int(width * height))
        let compressor = try #require(tjInitCompress())
        defer { tjDestroy(compressor) }
        var jpeg: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let rc = pixels.withUnsafeBufferPointer {
            tjCompress2(
                compressor, $0.baseAddress, width, 0, height, Int32(TJPF_GRAY.rawValue),
                &jpeg, &size, Int32(TJSAMP_GRAY.rawValue), 90, 0)
        }
        #expect(rc == 0)
        defer { tjFree(jpeg) }
        let decompressor = try #require(tjInitDecompress())
        defer { tjDestroy(decompressor) }
        var w: Int32 = 0, h: Int32 = 0, sub: Int32 = 0, cs: Int32 = 0
        #expect(tjDecompressHeader3(decompressor, jpeg, size, &w, &h, &sub, &cs) == 0)
        #expect(w == width && h == height)
    }

    @Test("V4L2: macro constants come through the shim with the kernel's values")
    func v4l2() {
        // v4l2_fourcc('M','J','P','G') and _IOR('V', 0, struct v4l2_capability).
        #expect(CV4L2_PIX_FMT_MJPEG == 0x4750_4A4D)
        #expect(CV4L2_PIX_FMT_YUYV == 0x5659_5559)
        #expect(CV4L2_VIDIOC_QUERYCAP == 0x8068_5600)
        // Opening a path that is not a device fails with errno, not a crash.
        #expect(cv4l2_open("/nonexistent/video", O_RDWR) == -1)
    }

    @Test("libgpiod 1.6: library version and a clean failure on a missing chip")
    func gpiod() {
        let version = String(cString: gpiod_version_string())
        #expect(version.hasPrefix("1."))
        #expect(gpiod_chip_open("/nonexistent/gpiochip") == nil)
    }

    @Test("OpenCV dnn: loads the YuNet model; a missing file is an error message, not a crash")
    func openCV() throws {
        #expect(String(cString: cvision_opencv_version()).hasPrefix("4."))
        var err = [CChar](repeating: 0, count: 512)
        #expect(cvision_net_load_onnx("/nonexistent/model.onnx", &err, err.count) == nil)
        #expect(!TestAssets.string(fromCBuffer: err).isEmpty)
        try #require(TestAssets.available, "assets missing: run scripts/fetch-assets.sh")
        let net = cvision_net_load_onnx(TestAssets.yunetModel.path, &err, err.count)
        #expect(net != nil)
        cvision_net_free(net)
    }

    @Test("dlib: loads the shape predictor and descriptor models")
    func dlib() throws {
        #expect(String(cString: cfacematch_dlib_version()).hasPrefix("19."))
        try #require(TestAssets.available, "assets missing: run scripts/fetch-assets.sh")
        var err = [CChar](repeating: 0, count: 512)
        let models = cfacematch_load(
            TestAssets.shapePredictorModel.path, TestAssets.faceDescriptorModel.path, &err, err.count)
        #expect(models != nil, "\(TestAssets.string(fromCBuffer: err))")
        cfacematch_free(models)
    }
}
