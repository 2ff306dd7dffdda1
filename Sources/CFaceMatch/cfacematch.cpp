#include "CFaceMatch.h"
#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/revision.h>
#include <cstdio>
#include <exception>
#include <string>

namespace {
// dlib's published face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat),
// declared exactly as in dlib's dnn_face_recognition_ex example so the weights deserialize.
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual = dlib::add_prev1<block<N, BN, 1, dlib::tag1<SUBNET>>>;
template <template <int, template <typename> class, int, typename> class block, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = dlib::add_prev2<dlib::avg_pool<2, 2, 2, 2, dlib::skip1<dlib::tag2<block<N, BN, 2, dlib::tag1<SUBNET>>>>>>;
template <int N, template <typename> class BN, int stride, typename SUBNET>
using block = BN<dlib::con<N, 3, 3, 1, 1, dlib::relu<BN<dlib::con<N, 3, 3, stride, stride, SUBNET>>>>>;
template <int N, typename SUBNET> using ares = dlib::relu<residual<block, N, dlib::affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = dlib::relu<residual_down<block, N, dlib::affine, SUBNET>>;
template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;
using anet_type = dlib::loss_metric<dlib::fc_no_bias<128, dlib::avg_pool_everything<
    alevel0<alevel1<alevel2<alevel3<alevel4<dlib::max_pool<3, 3, 2, 2, dlib::relu<dlib::affine<
    dlib::con<32, 7, 7, 2, 2, dlib::input_rgb_image_sized<150>>>>>>>>>>>>>;

void write_error(char *err, size_t len, const std::string &msg) {
    if (err && len > 0) std::snprintf(err, len, "%s", msg.c_str());
}
} // namespace

struct cfacematch_models {
    dlib::shape_predictor predictor;
    anet_type net;
};

extern "C" const char *cfacematch_dlib_version(void) {
    static const std::string v = std::to_string(DLIB_MAJOR_VERSION) + "." +
                                 std::to_string(DLIB_MINOR_VERSION) + "." + std::to_string(DLIB_PATCH_VERSION);
    return v.c_str();
}

extern "C" cfacematch_models *cfacematch_load(const char *sp, const char *desc, char *err, size_t err_len) {
    auto *m = new cfacematch_models();
    try {
        dlib::deserialize(sp) >> m->predictor;
        dlib::deserialize(desc) >> m->net;
        return m;
    } catch (const std::exception &e) {
        write_error(err, err_len, e.what());
    } catch (...) {
        write_error(err, err_len, "unknown C++ exception");
    }
    delete m;
    return nullptr;
}

extern "C" void cfacematch_free(cfacematch_models *models) { delete models; }

namespace {
// A read-only view of caller-owned RGB pixels in the shape dlib's generic image functions
// expect (dlib's "generic image" interface), so no copy is made before extracting the chip.
// The accessors live in the view's own namespace so dlib's templates find them by ADL.
struct rgb_view {
    const uint8_t *data;
    long width;
    long height;
    long stride;
};
inline long num_rows(const rgb_view &img) { return img.height; }
inline long num_columns(const rgb_view &img) { return img.width; }
inline void *image_data(rgb_view &img) { return const_cast<uint8_t *>(img.data); }
inline const void *image_data(const rgb_view &img) { return img.data; }
inline long width_step(const rgb_view &img) { return img.stride; }
} // namespace

namespace dlib {
template <> struct image_traits<rgb_view> { typedef rgb_pixel pixel_type; };
} // namespace dlib

extern "C" int cfacematch_describe(cfacematch_models *models, const uint8_t *rgb, int width, int height,
                                   int stride, double x, double y, double w, double h,
                                   float *descriptor, float *landmarks, char *err, size_t err_len) {
    if (!models || !rgb || !descriptor || width <= 0 || height <= 0 || stride < width * 3) {
        write_error(err, err_len, "invalid arguments");
        return -1;
    }
    if (!(w > 1 && h > 1)) {
        write_error(err, err_len, "face rectangle is empty");
        return -1;
    }
    try {
        const rgb_view view{rgb, width, height, stride};
        const dlib::rectangle rect(static_cast<long>(x), static_cast<long>(y),
                                   static_cast<long>(x + w) - 1, static_cast<long>(y + h) - 1);
        const dlib::full_object_detection shape = models->predictor(view, rect);
        if (shape.num_parts() != 5) {
            write_error(err, err_len, "shape predictor did not return 5 points");
            return -1;
        }
        dlib::matrix<dlib::rgb_pixel> chip;
        dlib::extract_image_chip(view, dlib::get_face_chip_details(shape, 150, 0.25), chip);
        const dlib::matrix<float, 0, 1> d = models->net(chip);
        if (d.size() != CFACEMATCH_DESCRIPTOR_LENGTH) {
            write_error(err, err_len, "descriptor network returned an unexpected length");
            return -1;
        }
        for (long i = 0; i < d.size(); ++i) descriptor[i] = d(i);
        if (landmarks) {
            for (unsigned long i = 0; i < 5; ++i) {
                landmarks[2 * i] = static_cast<float>(shape.part(i).x());
                landmarks[2 * i + 1] = static_cast<float>(shape.part(i).y());
            }
        }
        return 0;
    } catch (const std::exception &e) {
        write_error(err, err_len, e.what());
    } catch (...) {
        write_error(err, err_len, "unknown C++ exception");
    }
    return -1;
}
