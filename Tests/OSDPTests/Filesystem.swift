// Small file-system helpers for the key-file test (Glibc, no Foundation needed).
#if canImport(Glibc)
import Glibc
#endif

func getpidValue() -> Int32 { getpid() }
func mkdirValue(_ path: String) -> Int32 { mkdir(path, 0o700) }
func chmodValue(_ path: String, _ mode: mode_t) { chmod(path, mode) }
func removeTree(_ path: String) {
    for name in ["scbk", "scbk.new"] { unlink(path + "/" + name) }
    rmdir(path)
}
