// MallocTuning: glibc malloc settings that keep a long-running daemon's resident memory flat.
import CMalloc

/// Two glibc malloc defaults make a daemon like kioskd creep upwards for hours although the
/// memory it uses is flat (measured with `kiosk-bench all --only memory`, 100,000 frames):
///
/// - **Arenas.** Threads that contend for the heap get arenas of their own, up to eight per
///   core; freed memory stays in its arena. The frame path's threads (capture, analysis,
///   detection, Swift's pool, libcurl) spread free space over 11 arenas: +3.1 MB from 10,000 to
///   100,000 frames with 8 MB in use all along. Capped at two.
/// - **The mmap threshold.** Blocks from 128 KiB up are mapped and unmapped on their own, but
///   freeing one raises the threshold to its size, so from then on the detector's ~900 KB
///   input blob and the decode buffers come from the heap, which grows a step and keeps it.
///   Fixed at 256 KiB, so such blocks always go back to the kernel when freed.
///
/// Together: growth 0.10 MB over the same run, and 8 MB less resident memory (68.4 MB after
/// 10,000 frames with glibc's defaults, 60.3 MB with these).
package enum MallocTuning {
    /// At most this many arenas: the few busy threads of the frame path seldom wait on a lock.
    package static let arenaLimit = 2
    /// Blocks of this size and larger are mapped on their own and returned when freed.
    package static let mmapThreshold = 256 * 1024

    /// Applies ``arenaLimit`` and ``mmapThreshold``, each unless `environment` sets it
    /// (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`, or any `GLIBC_TUNABLES`: glibc applied
    /// those at start, and an operator's choice wins). Call before the process starts its
    /// threads: glibc fixes the arena cap once the eighth arena exists.
    /// - Returns: what this call set, for the log ("" when nothing).
    @discardableResult
    package static func apply(environment: [String: String]) -> String {
        if environment["GLIBC_TUNABLES"] != nil { return "" }
        var set: [String] = []
        if environment["MALLOC_ARENA_MAX"] == nil, mallopt(M_ARENA_MAX, Int32(arenaLimit)) == 1 {
            set.append("arenas at most \(arenaLimit)")
        }
        if environment["MALLOC_MMAP_THRESHOLD_"] == nil, mallopt(M_MMAP_THRESHOLD, Int32(mmapThreshold)) == 1 {
            set.append("mmap threshold \(mmapThreshold / 1024) KiB")
        }
        return set.joined(separator: ", ")
    }
}
