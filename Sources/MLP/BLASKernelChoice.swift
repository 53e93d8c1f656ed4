import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS picks its kernels when the library loads, from the processor's
/// model number, and on a processor it does not know (virtual machines often
/// hide the model) silently falls back to generic SSE3 kernels: on the
/// project's machines, 36 GFLOP/s instead of 190. It reads OPENBLAS_CORETYPE
/// at load time only, before `main` runs, so the program chooses for itself
/// by setting the variable and re-executing itself once.
///
/// Every process of a run must use the same kernels, because a shard's
/// gradient bits depend on them; child processes inherit the variable. A
/// user's own OPENBLAS_CORETYPE is always respected (set the same value on
/// every host of a mixed cluster to keep results bit-identical across hosts).
public enum BLASKernelChoice {
    /// The kernel set this processor supports best, from its feature flags.
    public static func preferredKernel(cpuFlags: Set<Substring>) -> String? {
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(cpuFlags.contains) { return "Haswell" }
        return nil
    }

    /// Re-executes this program with OPENBLAS_CORETYPE set, unless it is set
    /// already or there is nothing better to choose. Returns only if it did not exec.
    public static func pinKernelsByReexecuting() {
        #if os(Linux)
        guard getenv("OPENBLAS_CORETYPE") == nil,
              let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let kernel = preferredKernel(cpuFlags: Set(flagsLine.split(separator: " ")))
        else { return }
        setenv("OPENBLAS_CORETYPE", kernel, 1)
        var arguments = CommandLine.arguments.map { strdup($0) }
        arguments.append(nil)
        execv("/proc/self/exe", &arguments)
        // exec failed: carry on with whatever kernels OpenBLAS chose.
        unsetenv("OPENBLAS_CORETYPE")
        #endif
    }
}
