// swift-tools-version:6.1
// kiosk-agent: the software inside a face check-in terminal. See README.md and docs/.
//
// Layering (docs/ARCHITECTURE.md): C lives only in the shim targets (C*), each a thin wrapper
// over one system library; the Swift modules above them expose typed, safe APIs; `KioskCore`
// imports no C module; executables only wire modules together.
import PackageDescription

// OpenCV 4.6 on Debian ships opencv4.pc only with the full libopencv-dev (which drags in Qt,
// GDAL and ffmpeg), so the shim names the include folder and the three libraries it needs.
// KIOSK_SYSROOT: the target's root when cross-building (docs/PACKAGING.md, "arm64"); the
// headers are not the build machine's then.
let openCVInclude = (Context.environment["KIOSK_SYSROOT"] ?? "") + "/usr/include/opencv4"

let package = Package(
    name: "kiosk-agent",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kioskd", targets: ["kioskd"]),
        .executable(name: "kioskctl", targets: ["kioskctl"]),
        .executable(name: "aidee-sim", targets: ["aidee-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The same Yams swift-configuration reads YAML with; used to report unknown keys.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // MARK: C shims: one per system library, only what Swift cannot import directly.
        .systemLibrary(
            name: "CV4L2", pkgConfig: "libv4l2",
            providers: [.apt(["libv4l-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng16",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CGPIOD", pkgConfig: "libgpiod",
            providers: [.apt(["libgpiod-dev"])]),
        // glibc's <malloc.h> (mallopt), which the Glibc module leaves out.
        .systemLibrary(name: "CMalloc"),
        .target(
            name: "CVision",
            cxxSettings: [.unsafeFlags(["-I\(openCVInclude)"])],
            linkerSettings: [
                .linkedLibrary("opencv_dnn"), .linkedLibrary("opencv_imgproc"),
                .linkedLibrary("opencv_core"),
            ]),
        .target(
            name: "CFaceMatch",
            linkerSettings: [
                .linkedLibrary("dlib"), .linkedLibrary("blas"), .linkedLibrary("lapack"),
            ]),

        // MARK: Swift modules, one job each.
        // The build stamp `make deb` writes (commit, compiler); see Sources/CBuildInfo/buildinfo.c.
        // Both configurations: KIOSK_DEB_CONFIG=debug packs a debug build (packaging/build-deb.sh).
        .target(
            name: "CBuildInfo",
            cSettings: [.unsafeFlags(["-I\(Context.packageDirectory)/.build/build-info"])]),

        .target(name: "Imaging", dependencies: ["CTurboJPEG", "CPNG"]),
        .target(name: "BuildInfo", dependencies: ["CBuildInfo"]),
        .target(
            name: "Camera",
            dependencies: [
                "CV4L2", "Imaging", "Threading",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "FaceDetection",
            dependencies: ["CVision", "Imaging", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "DoorIO",
            dependencies: [
                "CGPIOD",
                "Threading",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Dedicated POSIX threads for blocking loops (GPIO events, Wiegand, the OSDP line).
        .target(name: "Threading", dependencies: ["CMalloc"]),
        // OSDP v2.2, the reader (PD) side: framing, the commands, Secure Channel, the serial line.
        .target(
            name: "OSDP",
            dependencies: [
                "Threading",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]),
        .target(
            name: "AiDeeAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            resources: [.embedInCode("openapi.yaml")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]),
        .target(
            name: "FaceAiDee",
            dependencies: [
                "CCurl", "AiDeeAPI",
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        .target(
            name: "Outbox",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "KioskCore",
            dependencies: [
                "Imaging", "Camera", "FaceDetection", "DoorIO", "OSDP", "AiDeeAPI", "FaceAiDee", "Outbox", "BuildInfo",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Yams", package: "Yams"),
            ]),
        .target(
            name: "AiDeeSimulator",
            dependencies: [
                "AiDeeAPI", "CFaceMatch", "FaceDetection", "Imaging",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        .target(
            name: "KioskCLI",
            dependencies: [
                "KioskCore", "Camera", "Imaging", "FaceDetection", "DoorIO", "OSDP", "AiDeeAPI", "FaceAiDee", "Outbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // MARK: Executables: wiring only.
        .executableTarget(
            name: "kioskd",
            dependencies: [
                "KioskCore",
                "Threading",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "kioskctl", dependencies: ["KioskCLI"]),
        .executableTarget(
            name: "aidee-sim",
            dependencies: [
                "AiDeeSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Benchmarks that print figures (`make bench`); not part of the product.
        .executableTarget(
            name: "kiosk-bench",
            dependencies: [
                "KioskCore", "Imaging", "Camera", "FaceDetection", "FaceAiDee", "Outbox", "DoorIO", "TestSupport", "Threading",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // MARK: Tests (Swift Testing).
        .target(
            name: "TestSupport", dependencies: [.product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"),
        // The simulator half of the kit: only the suites that start aidee-sim link Hummingbird.
        .target(
            name: "SimulatorTestSupport", dependencies: ["AiDeeSimulator", "TestSupport"],
            path: "Tests/SimulatorTestSupport"),
        .testTarget(
            name: "ShimTests",
            dependencies: [
                "CV4L2", "CTurboJPEG", "CCurl", "CGPIOD", "CVision", "CFaceMatch", "Threading", "TestSupport",
            ]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "TestSupport"]),
        .testTarget(name: "CameraTests", dependencies: ["Camera", "Imaging", "TestSupport"]),
        .testTarget(name: "FaceDetectionTests", dependencies: ["FaceDetection", "Imaging", "CVision", "TestSupport"]),
        .testTarget(
            name: "DoorIOTests",
            dependencies: ["DoorIO", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "OSDPTests", dependencies: ["OSDP", "TestSupport"]),
        .testTarget(
            name: "FaceAiDeeTests",
            dependencies: [
                "FaceAiDee", "AiDeeAPI", "AiDeeSimulator", "TestSupport", "SimulatorTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "OutboxTests",
            dependencies: [
                "Outbox", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]),
        // Test tool, not shipped: the child process OutboxTests kills with SIGKILL (crash test).
        .executableTarget(
            name: "outbox-crash-worker",
            dependencies: ["Outbox", .product(name: "Logging", package: "swift-log")],
            path: "Tests/OutboxCrashWorker"),
        .testTarget(
            name: "KioskCoreTests",
            dependencies: [
                "KioskCore", "AiDeeSimulator", "Camera", "Imaging", "DoorIO", "OSDP", "Outbox", "TestSupport",
                "SimulatorTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "AiDeeSimulatorTests",
            dependencies: ["AiDeeSimulator", "AiDeeAPI", "TestSupport", "SimulatorTestSupport"]),
        .testTarget(
            name: "KioskCLITests",
            dependencies: [
                "KioskCLI", "DoorIO", "AiDeeSimulator", "TestSupport", "SimulatorTestSupport", "KioskCore", "Outbox", "FaceAiDee",
                "FaceDetection", "Imaging", "Camera",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
    ],
    cxxLanguageStandard: .cxx17
)

// Imports are internal unless a file says otherwise, and a member is visible only through an
// import of its own module: the compiler keeps C types (and other modules' types) out of
// declarations other modules see, and every module names what it uses.
for target in package.targets where target.type != .system && target.type != .test {
    guard !["CVision", "CFaceMatch", "CBuildInfo", "TestSupport"].contains(target.name) else { continue }
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("InternalImportsByDefault"),
            .enableUpcomingFeature("MemberImportVisibility"),
        ]
}
