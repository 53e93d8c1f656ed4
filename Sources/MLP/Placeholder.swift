import COpenBLAS
public func blasThreads() -> Int32 { openblas_set_num_threads(1); return openblas_get_num_threads() }
