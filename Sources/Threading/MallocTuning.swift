// MallocTuning: glibc malloc settings that keep a long-running daemon's resident memory flat.
import CMalloc

/// glibc's malloc defaults make a daemon like kioskd creep upwards for hours although the memory
/// it uses is flat. Measured with `kiosk-bench all --only memory` (100,000 frames, release build),
/// and the busy-CPU figure (a person in view, 30 fps, two rounds), settings alternating:
///
/// | settings | growth 10k → 100k frames | CPU, person in view |
/// |---|---|---|
/// | glibc defaults | +2.64 MB (+3.84 in an earlier run) | 30.0 %, 30.1 % |
/// | arenas at most 2 | +1.39 MB | 30.0 %, 31.8 % |
/// | arenas 2, mmap threshold 256 KiB | +0.31 MB | 33.8 %, 31.8 % |
/// | **arenas 2, mmap threshold 4 MiB, trim threshold 8 MiB** | **+0.11 MB** | **30.0 %, 26.9 %** |
///
/// - **Arenas.** Threads that contend for the heap get arenas of their own, up to eight per
///   core; freed memory stays in its arena. The frame path's threads (capture, analysis,
///   detection, Swift's pool, libcurl) spread free space over 11 arenas. Capped at two.
/// - **The mmap threshold.** Blocks from 128 KiB up start out mapped on their own; freeing one
///   raises the threshold to its size, so from then on the detector's ~900 KB input blob and
///   the decode buffers come from the heap, which grows a step at some later hour and keeps it.
///   Fixed at 4 MiB, they come from the heap from the first frame (a small threshold instead
///   maps and unmaps them every frame: page faults, 4 points of a core).
/// - **The trim threshold.** Twice the mmap threshold, as glibc's own adjustment would make it:
///   the heap's top is not handed back and asked for again from frame to frame.
package enum MallocTuning {
    /// At most this many arenas: the few busy threads of the frame path seldom wait on a lock.
    package static let arenaLimit = 2
    /// Blocks of this size and larger are mapped on their own; everything the frame path
    /// allocates is smaller.
    package static let mmapThreshold = 4 * 1024 * 1024
    /// Free memory at the heap's top beyond this is returned to the kernel.
    package static let trimThreshold = 8 * 1024 * 1024

    /// Applies ``arenaLimit``, ``mmapThreshold`` and ``trimThreshold``, each unless
    /// `environment` sets it (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`,
    /// `MALLOC_TRIM_THRESHOLD_`, or any `GLIBC_TUNABLES`: glibc applied those at start, and an
    /// operator's choice wins). Call before the process starts its threads: glibc fixes the
    /// arena cap once the eighth arena exists.
    /// - Returns: what this call set, for the log ("" when nothing).
    @discardableResult
    package static func apply(environment: [String: String]) -> String {
        if environment["GLIBC_TUNABLES"] != nil { return "" }
        var set: [String] = []
        if environment["MALLOC_ARENA_MAX"] == nil, mallopt(M_ARENA_MAX, Int32(arenaLimit)) == 1 {
            set.append("arenas at most \(arenaLimit)")
        }
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil, mallopt(M_MMAP_THRESHOLD, Int32(mmapThreshold)) == 1 {
            set.append("mmap threshold \(mmapThreshold / 1024 / 1024) MiB")
        }
        if environment["MALLOC_TRIM_THRESHOLD_"] == nil, mallopt(M_TRIM_THRESHOLD, Int32(trimThreshold)) == 1 {
            set.append("trim threshold \(trimThreshold / 1024 / 1024) MiB")
        }
        return set.joined(separator: ", ")
    }
}
