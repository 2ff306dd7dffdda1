// MallocTuning: what it sets, and that an operator's environment wins.
import Testing
import Threading

@Suite("malloc tuning")
struct MallocTuningTests {
    @Test("with a clean environment all three settings are applied and named for the log")
    func appliesAll() {
        #expect(
            MallocTuning.apply(environment: [:]) == "arenas at most 2, mmap threshold 4 MiB, trim threshold 8 MiB")
    }

    @Test("MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ and GLIBC_TUNABLES are left to glibc")
    func environmentWins() {
        #expect(
            MallocTuning.apply(environment: ["MALLOC_ARENA_MAX": "4"]) == "mmap threshold 4 MiB, trim threshold 8 MiB")
        #expect(
            MallocTuning.apply(environment: ["MALLOC_MMAP_THRESHOLD_": "131072"]) == "arenas at most 2, trim threshold 8 MiB")
        #expect(
            MallocTuning.apply(environment: ["MALLOC_TRIM_THRESHOLD_": "131072"]) == "arenas at most 2, mmap threshold 4 MiB")
        #expect(MallocTuning.apply(environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=1"]) == "")
    }
}
