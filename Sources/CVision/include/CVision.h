// The OpenCV shim: a plain C API over the few OpenCV 4.6 C++ pieces the detector needs
// (cv::dnn to run YuNet, imgproc for resizing, filters and drawing). Swift imports this header
// without C++ interop; every C++ exception is caught inside and returned as a message.
//
// Pixel buffers passed in are tightly packed rows (stride = width * channels). `channels` is 1
// (gray) or 3; `swap_rb` says the 3-channel buffer is RGB rather than OpenCV's native BGR.
#ifndef KIOSK_CVISION_H
#define KIOSK_CVISION_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/// The loaded OpenCV library's version string (cv::getVersionString), e.g. "4.6.0".
const char *cvision_opencv_version(void);

/// An ONNX network loaded through cv::dnn. Opaque; owned by the caller. Not thread-safe: one
/// owner calls it at a time (cv::dnn::Net keeps per-forward state).
typedef struct cvision_net cvision_net;

/// Loads an ONNX model. On failure returns NULL and writes a message into `err`.
cvision_net *cvision_net_load_onnx(const char *path, char *err, size_t err_len);
void cvision_net_free(cvision_net *net);

/// Sets the number of threads OpenCV uses (process-wide, as cv::setNumThreads).
void cvision_set_num_threads(int threads);
/// The number of threads OpenCV currently uses (cv::getNumThreads).
int cvision_get_num_threads(void);

/// One face found by YuNet, in the caller's image pixels.
typedef struct cvision_face {
    float x, y, width, height;
    /// Right eye, left eye, nose tip, right mouth corner, left mouth corner (the subject's own
    /// right and left), as x0, y0, x1, y1, ...
    float landmarks[10];
    float score;
} cvision_face;

/// Loads YuNet (2023mar) and checks that it has the 12 outputs the decoder reads
/// (cls/obj/bbox/kps at strides 8, 16, 32) by running it once on a blank 32x32 input.
/// On failure returns NULL and writes a message into `err`.
cvision_net *cvision_yunet_load(const char *path, char *err, size_t err_len);

/// Runs YuNet on an image.
///
/// The image is resized to `input_width` x `input_height` (0 or the image's own size: no resize),
/// padded to a multiple of 32 with black, fed as BGR without mean or scale, and the 12 outputs
/// decoded: score = sqrt(cls * obj) (each clamped to [0, 1]); per stride s and cell (row, col):
/// centre = ((col, row) + offset) * s, size = exp(log-size) * s, landmarks = ((col, row) + offset) * s.
/// Boxes at or above `score_threshold` go through NMS (`nms_threshold`) over every candidate; the
/// `top_k` best faces that survive it are kept (`top_k` <= 0: all)
/// and are mapped back to the caller's image pixels.
///
/// Writes up to `capacity` faces (best first) and the number found into `*count` (which may
/// exceed `capacity`). Returns 0, or -1 with a message in `err`.
int cvision_yunet_detect(cvision_net *net, const uint8_t *pixels, int width, int height,
                         int channels, int swap_rb, int input_width, int input_height,
                         float score_threshold, float nms_threshold, int top_k,
                         cvision_face *faces, int capacity, int *count, char *err, size_t err_len);

/// Measurements of one image region that face quality needs.
typedef struct cvision_region_stats {
    /// Variance of the Laplacian of the region's luminance, after scaling the region to
    /// `canonical_width` pixels wide (so a sharp small face and a sharp large face compare).
    double laplacian_variance;
    /// Mean luminance, 0...255.
    double mean;
    /// Fraction of pixels at or below 8 (clipped shadows) and at or above 247 (clipped highlights).
    double dark_fraction;
    double bright_fraction;
    /// Mean luminance of the region's left and right halves (image left and right).
    double left_mean;
    double right_mean;
} cvision_region_stats;

/// Measures the region (clamped to the image; at least 4x4 pixels must remain).
/// Returns 0, or -1 with a message in `err`.
int cvision_region_stats_compute(const uint8_t *pixels, int width, int height, int channels,
                                 int swap_rb, int rx, int ry, int rw, int rh, int canonical_width,
                                 cvision_region_stats *out, char *err, size_t err_len);

/// Draws faces onto a 3-channel image in place: boxes, the 5 landmarks and the score.
/// Returns 0, or -1 with a message in `err`.
int cvision_draw_faces(uint8_t *pixels, int width, int height, int channels, int swap_rb,
                       const cvision_face *faces, int count, char *err, size_t err_len);

/// Rotates an image about its centre by `degrees` (counter-clockwise, as cv::getRotationMatrix2D),
/// keeping its size; uncovered corners are black. `out` holds width*height*channels bytes.
int cvision_rotate(const uint8_t *pixels, int width, int height, int channels, double degrees,
                   uint8_t *out, char *err, size_t err_len);

/// Gaussian blur with the given sigma (kernel size derived from it). `out` as in cvision_rotate.
int cvision_gaussian_blur(const uint8_t *pixels, int width, int height, int channels, double sigma,
                          uint8_t *out, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
