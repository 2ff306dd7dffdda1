// The OpenCV shim (see include/CVision.h). Every entry point catches every C++ exception:
// an exception crossing into Swift would abort the process.
#include "CVision.h"
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

struct cvision_net {
    cv::dnn::Net net;
    // YuNet output names resolved once, in the order the decoder reads them.
    std::vector<cv::String> outputNames;
};

namespace {

void write_error(char *err, size_t len, const std::string &msg) {
    if (err && len > 0) {
        std::snprintf(err, len, "%s", msg.c_str());
    }
}

// Turns the exception being handled into a message; call only inside a catch block.
std::string current_exception_message() {
    try {
        throw;
    } catch (const cv::Exception &e) {
        return e.err.empty() ? std::string(e.what()) : e.err;
    } catch (const std::exception &e) {
        return e.what();
    } catch (...) {
        return "unknown C++ exception";
    }
}

// OpenCV prints its own "[ERROR]" lines when a model fails to parse; the caller gets the
// message as a typed error instead, so silence the logger for the duration of a load.
struct QuietLogs {
    cv::utils::logging::LogLevel previous;
    QuietLogs() : previous(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT)) {}
    ~QuietLogs() { cv::utils::logging::setLogLevel(previous); }
};

const int kStrides[3] = {8, 16, 32};
const int kDivisor = 32;

// Wraps caller memory (no copy) as a Mat of the right type; converted to 3-channel BGR
// (copying) when the network needs it.
cv::Mat wrap(const uint8_t *pixels, int width, int height, int channels) {
    int type = channels == 1 ? CV_8UC1 : CV_8UC3;
    return cv::Mat(height, width, type, const_cast<uint8_t *>(pixels),
                   static_cast<size_t>(width) * channels);
}

bool valid_geometry(int width, int height, int channels, char *err, size_t err_len) {
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3)) {
        write_error(err, err_len, "invalid image geometry: " + std::to_string(width) + "x" +
                                      std::to_string(height) + "x" + std::to_string(channels));
        return false;
    }
    return true;
}

cv::Mat to_bgr(const cv::Mat &src, int channels, int swap_rb) {
    cv::Mat bgr;
    if (channels == 1) {
        cv::cvtColor(src, bgr, cv::COLOR_GRAY2BGR);
    } else if (swap_rb) {
        cv::cvtColor(src, bgr, cv::COLOR_RGB2BGR);
    } else {
        bgr = src;
    }
    return bgr;
}

cv::Mat to_gray(const cv::Mat &src, int channels, int swap_rb) {
    if (channels == 1) return src;
    cv::Mat gray;
    cv::cvtColor(src, gray, swap_rb ? cv::COLOR_RGB2GRAY : cv::COLOR_BGR2GRAY);
    return gray;
}

// Runs the network on a padded BGR image and returns its outputs in `outputNames` order.
void forward(cvision_net *handle, const cv::Mat &padded, std::vector<cv::Mat> &outputs) {
    // YuNet 2023mar takes raw BGR values: no mean subtraction, no scaling, no channel swap.
    cv::Mat blob = cv::dnn::blobFromImage(padded);
    handle->net.setInput(blob);
    handle->net.forward(outputs, handle->outputNames);
}

}  // namespace

// The loaded library's own version (not the headers' CV_VERSION): what `--version` must report
// when the terminal's libopencv differs from the build machine's.
extern "C" const char *cvision_opencv_version(void) {
    static const std::string version = cv::getVersionString();
    return version.c_str();
}

extern "C" cvision_net *cvision_net_load_onnx(const char *path, char *err, size_t err_len) {
    try {
        QuietLogs quiet;
        cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
        if (net.empty()) {
            write_error(err, err_len, "OpenCV returned an empty network");
            return nullptr;
        }
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
        return new cvision_net{net, {}};
    } catch (...) {
        write_error(err, err_len, current_exception_message());
    }
    return nullptr;
}

extern "C" void cvision_net_free(cvision_net *net) { delete net; }

extern "C" void cvision_set_num_threads(int threads) {
    try { cv::setNumThreads(threads); } catch (...) {}
}

extern "C" int cvision_get_num_threads(void) {
    try { return cv::getNumThreads(); } catch (...) { return -1; }
}

extern "C" cvision_net *cvision_yunet_load(const char *path, char *err, size_t err_len) {
    cvision_net *handle = cvision_net_load_onnx(path, err, err_len);
    if (!handle) return nullptr;
    try {
        QuietLogs quiet;
        for (const char *kind : {"cls", "obj", "bbox", "kps"}) {
            for (int stride : kStrides) {
                handle->outputNames.push_back(std::string(kind) + "_" + std::to_string(stride));
            }
        }
        // A dry run proves the graph has the outputs and shapes the decoder expects, so a wrong
        // model fails here with a clear message instead of on the first frame.
        cv::Mat blank(kDivisor, kDivisor, CV_8UC3, cv::Scalar::all(0));
        std::vector<cv::Mat> outputs;
        forward(handle, blank, outputs);
        const int perCell[4] = {1, 1, 4, 10};
        for (int k = 0; k < 4; ++k) {
            for (int i = 0; i < 3; ++i) {
                const cv::Mat &out = outputs.at(k * 3 + i);
                int cells = (kDivisor / kStrides[i]) * (kDivisor / kStrides[i]);
                if (out.total() != static_cast<size_t>(cells * perCell[k])) {
                    throw std::runtime_error("output " + handle->outputNames[k * 3 + i] +
                                             " has " + std::to_string(out.total()) +
                                             " values, expected " +
                                             std::to_string(cells * perCell[k]) +
                                             ": not a YuNet 2023mar model");
                }
            }
        }
        return handle;
    } catch (...) {
        write_error(err, err_len, "not a usable YuNet model: " + current_exception_message());
    }
    delete handle;
    return nullptr;
}

extern "C" int cvision_yunet_detect(cvision_net *handle, const uint8_t *pixels, int width,
                                    int height, int channels, int swap_rb, int input_width,
                                    int input_height, float score_threshold, float nms_threshold,
                                    int top_k, cvision_face *faces, int capacity, int *count,
                                    char *err, size_t err_len) {
    if (count) *count = 0;
    if (!handle || handle->outputNames.size() != 12) {
        write_error(err, err_len, "the network was not loaded with cvision_yunet_load");
        return -1;
    }
    if (!pixels || !valid_geometry(width, height, channels, err, err_len)) {
        if (!pixels) write_error(err, err_len, "no pixels");
        return -1;
    }
    try {
        cv::Mat bgr = to_bgr(wrap(pixels, width, height, channels), channels, swap_rb);
        if (input_width <= 0 || input_height <= 0) {
            input_width = width;
            input_height = height;
        }
        cv::Mat input = bgr;
        if (input_width != width || input_height != height) {
            cv::resize(bgr, input, cv::Size(input_width, input_height), 0, 0, cv::INTER_LINEAR);
        }
        int padW = ((input_width - 1) / kDivisor + 1) * kDivisor;
        int padH = ((input_height - 1) / kDivisor + 1) * kDivisor;
        cv::Mat padded = input;
        if (padW != input_width || padH != input_height) {
            cv::copyMakeBorder(input, padded, 0, padH - input_height, 0, padW - input_width,
                               cv::BORDER_CONSTANT, cv::Scalar::all(0));
        }
        std::vector<cv::Mat> outputs;
        forward(handle, padded, outputs);

        std::vector<cv::Rect2d> boxes;
        std::vector<float> scores;
        std::vector<std::array<float, 10>> marks;
        for (int i = 0; i < 3; ++i) {
            const int stride = kStrides[i];
            const int cols = padW / stride;
            const int rows = padH / stride;
            const float *cls = outputs[i].ptr<float>();
            const float *obj = outputs[3 + i].ptr<float>();
            const float *box = outputs[6 + i].ptr<float>();
            const float *kps = outputs[9 + i].ptr<float>();
            for (int r = 0; r < rows; ++r) {
                for (int c = 0; c < cols; ++c) {
                    const int idx = r * cols + c;
                    float clsScore = std::min(std::max(cls[idx], 0.f), 1.f);
                    float objScore = std::min(std::max(obj[idx], 0.f), 1.f);
                    float score = std::sqrt(clsScore * objScore);
                    if (score < score_threshold) continue;
                    // Anchor-free: offsets from the cell's corner in stride units; sizes are logs.
                    float cx = (c + box[idx * 4 + 0]) * stride;
                    float cy = (r + box[idx * 4 + 1]) * stride;
                    float w = std::exp(box[idx * 4 + 2]) * stride;
                    float h = std::exp(box[idx * 4 + 3]) * stride;
                    boxes.emplace_back(cx - w / 2, cy - h / 2, w, h);
                    scores.push_back(score);
                    std::array<float, 10> lm;
                    for (int n = 0; n < 5; ++n) {
                        lm[2 * n] = (kps[idx * 10 + 2 * n] + c) * stride;
                        lm[2 * n + 1] = (kps[idx * 10 + 2 * n + 1] + r) * stride;
                    }
                    marks.push_back(lm);
                }
            }
        }
        std::vector<int> keep;
        if (!boxes.empty()) {
            // NMSBoxes' own top_k keeps the k best *candidates* before suppression, and a few
            // faces own dozens of overlapping cells each: with k = 16, a group photo came back
            // with three faces. Suppress over every candidate, then keep the k best faces.
            cv::dnn::NMSBoxes(boxes, scores, score_threshold, nms_threshold, keep, 1.f, 0);
            if (top_k > 0 && keep.size() > static_cast<size_t>(top_k)) keep.resize(top_k);
        }
        // NMSBoxes returns indices sorted by descending score.
        const float sx = static_cast<float>(width) / input_width;
        const float sy = static_cast<float>(height) / input_height;
        int written = 0;
        for (int index : keep) {
            if (written >= capacity || !faces) break;
            cvision_face &f = faces[written++];
            const cv::Rect2d &b = boxes[index];
            f.x = static_cast<float>(b.x) * sx;
            f.y = static_cast<float>(b.y) * sy;
            f.width = static_cast<float>(b.width) * sx;
            f.height = static_cast<float>(b.height) * sy;
            for (int n = 0; n < 5; ++n) {
                f.landmarks[2 * n] = marks[index][2 * n] * sx;
                f.landmarks[2 * n + 1] = marks[index][2 * n + 1] * sy;
            }
            f.score = scores[index];
        }
        if (count) *count = static_cast<int>(keep.size());
        return 0;
    } catch (...) {
        write_error(err, err_len, "YuNet inference failed: " + current_exception_message());
    }
    return -1;
}

extern "C" int cvision_region_stats_compute(const uint8_t *pixels, int width, int height,
                                            int channels, int swap_rb, int rx, int ry, int rw,
                                            int rh, int canonical_width, cvision_region_stats *out,
                                            char *err, size_t err_len) {
    if (!pixels || !out || !valid_geometry(width, height, channels, err, err_len)) {
        if (!pixels || !out) write_error(err, err_len, "no pixels or no output");
        return -1;
    }
    try {
        cv::Rect roi = cv::Rect(rx, ry, rw, rh) & cv::Rect(0, 0, width, height);
        if (roi.width < 4 || roi.height < 4) {
            write_error(err, err_len, "region lies outside the image or is smaller than 4x4");
            return -1;
        }
        cv::Mat gray = to_gray(wrap(pixels, width, height, channels)(roi), channels, swap_rb);
        cv::Mat canonical = gray;
        if (canonical_width > 0 && canonical_width != roi.width) {
            int ch = std::max(4, static_cast<int>(std::lround(
                                     static_cast<double>(roi.height) * canonical_width / roi.width)));
            // INTER_AREA when shrinking (no aliasing that would fake sharpness), linear when growing.
            int interp = canonical_width < roi.width ? cv::INTER_AREA : cv::INTER_LINEAR;
            cv::resize(gray, canonical, cv::Size(canonical_width, ch), 0, 0, interp);
        }
        cv::Mat lap;
        cv::Laplacian(canonical, lap, CV_64F);
        cv::Scalar lapMean, lapStd;
        cv::meanStdDev(lap, lapMean, lapStd);
        out->laplacian_variance = lapStd[0] * lapStd[0];

        out->mean = cv::mean(gray)[0];
        const double total = static_cast<double>(gray.total());
        cv::Mat mask;
        cv::compare(gray, 8, mask, cv::CMP_LE);
        out->dark_fraction = cv::countNonZero(mask) / total;
        cv::compare(gray, 247, mask, cv::CMP_GE);
        out->bright_fraction = cv::countNonZero(mask) / total;
        const int half = gray.cols / 2;
        out->left_mean = cv::mean(gray(cv::Rect(0, 0, half, gray.rows)))[0];
        out->right_mean = cv::mean(gray(cv::Rect(gray.cols - half, 0, half, gray.rows)))[0];
        return 0;
    } catch (...) {
        write_error(err, err_len, "region measurement failed: " + current_exception_message());
    }
    return -1;
}

extern "C" int cvision_draw_faces(uint8_t *pixels, int width, int height, int channels,
                                  int swap_rb, const cvision_face *faces, int count, char *err,
                                  size_t err_len) {
    if (!pixels || channels != 3 || !valid_geometry(width, height, channels, err, err_len)) {
        if (!pixels || channels != 3) write_error(err, err_len, "drawing needs a 3-channel image");
        return -1;
    }
    try {
        cv::Mat img(height, width, CV_8UC3, pixels, static_cast<size_t>(width) * 3);
        auto colour = [swap_rb](int b, int g, int r) {
            return swap_rb ? cv::Scalar(r, g, b) : cv::Scalar(b, g, r);
        };
        const int thickness = std::max(1, std::min(width, height) / 300);
        // Right eye, left eye, nose, mouth right, mouth left: distinct colours so a swapped
        // landmark order is visible at a glance.
        const cv::Scalar markColours[5] = {colour(255, 0, 0), colour(0, 0, 255), colour(0, 255, 0),
                                           colour(255, 0, 255), colour(0, 255, 255)};
        for (int i = 0; i < count; ++i) {
            const cvision_face &f = faces[i];
            cv::Rect box(cvRound(f.x), cvRound(f.y), cvRound(f.width), cvRound(f.height));
            cv::rectangle(img, box, colour(0, 255, 0), thickness);
            for (int n = 0; n < 5; ++n) {
                cv::circle(img, cv::Point(cvRound(f.landmarks[2 * n]), cvRound(f.landmarks[2 * n + 1])),
                           thickness + 1, markColours[n], cv::FILLED);
            }
            char label[32];
            std::snprintf(label, sizeof label, "%.2f", f.score);
            double fontScale = std::max(0.4, f.width / 200.0);
            cv::putText(img, label, cv::Point(box.x, std::max(12, box.y - 4)),
                        cv::FONT_HERSHEY_SIMPLEX, fontScale, colour(0, 255, 0), thickness);
        }
        return 0;
    } catch (...) {
        write_error(err, err_len, "drawing failed: " + current_exception_message());
    }
    return -1;
}

extern "C" int cvision_rotate(const uint8_t *pixels, int width, int height, int channels,
                              double degrees, uint8_t *out, char *err, size_t err_len) {
    if (!pixels || !out || !valid_geometry(width, height, channels, err, err_len)) return -1;
    try {
        cv::Mat src = wrap(pixels, width, height, channels);
        cv::Mat dst(height, width, src.type(), out, static_cast<size_t>(width) * channels);
        cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(width / 2.f, height / 2.f), degrees, 1.0);
        cv::warpAffine(src, dst, m, dst.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
        return 0;
    } catch (...) {
        write_error(err, err_len, "rotation failed: " + current_exception_message());
    }
    return -1;
}

extern "C" int cvision_gaussian_blur(const uint8_t *pixels, int width, int height, int channels,
                                     double sigma, uint8_t *out, char *err, size_t err_len) {
    if (!pixels || !out || !valid_geometry(width, height, channels, err, err_len)) return -1;
    try {
        cv::Mat src = wrap(pixels, width, height, channels);
        cv::Mat dst(height, width, src.type(), out, static_cast<size_t>(width) * channels);
        cv::GaussianBlur(src, dst, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT_101);
        return 0;
    } catch (...) {
        write_error(err, err_len, "blur failed: " + current_exception_message());
    }
    return -1;
}
