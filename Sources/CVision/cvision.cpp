#include "CVision.h"
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

struct cvision_net {
    cv::dnn::Net net;
};

static void write_error(char *err, size_t len, const std::string &msg) {
    if (err && len > 0) {
        std::snprintf(err, len, "%s", msg.c_str());
    }
}

extern "C" const char *cvision_opencv_version(void) { return CV_VERSION; }

extern "C" cvision_net *cvision_net_load_onnx(const char *path, char *err, size_t err_len) {
    try {
        cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
        if (net.empty()) {
            write_error(err, err_len, "OpenCV returned an empty network");
            return nullptr;
        }
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        return new cvision_net{net};
    } catch (const cv::Exception &e) {
        write_error(err, err_len, e.err.empty() ? e.what() : e.err);
    } catch (const std::exception &e) {
        write_error(err, err_len, e.what());
    } catch (...) {
        write_error(err, err_len, "unknown C++ exception");
    }
    return nullptr;
}

extern "C" void cvision_net_free(cvision_net *net) { delete net; }

extern "C" void cvision_set_num_threads(int threads) {
    try { cv::setNumThreads(threads); } catch (...) {}
}
