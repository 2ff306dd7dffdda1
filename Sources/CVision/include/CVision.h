// The OpenCV shim: a plain C API over the few OpenCV 4.6 C++ pieces the detector needs
// (cv::dnn to run YuNet, imgproc for resizing and filters). Swift imports this header
// without C++ interop; every C++ exception is caught inside and returned as a message.
#ifndef KIOSK_CVISION_H
#define KIOSK_CVISION_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/// OpenCV's version string, e.g. "4.6.0".
const char *cvision_opencv_version(void);

/// An ONNX network loaded through cv::dnn. Opaque; owned by the caller.
typedef struct cvision_net cvision_net;

/// Loads an ONNX model. On failure returns NULL and writes a message into `err`.
cvision_net *cvision_net_load_onnx(const char *path, char *err, size_t err_len);
void cvision_net_free(cvision_net *net);

/// Sets the number of threads OpenCV uses (process-wide, as cv::setNumThreads).
void cvision_set_num_threads(int threads);

#ifdef __cplusplus
}
#endif
#endif
