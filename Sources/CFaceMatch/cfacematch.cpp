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
