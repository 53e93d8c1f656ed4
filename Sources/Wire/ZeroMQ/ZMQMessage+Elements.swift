#if _endian(big)
#error("the wire format is little-endian and bulk frames are read in place")
#endif

/// Typed views of bulk frames. Received frames may point into libzmq's
/// receive buffer at any offset, so alignment is checked and a misaligned
/// frame is copied once instead of being read through a misaligned pointer.
extension ZMQMessage {
    /// The frame as `count / stride` elements of `T`; trailing bytes that do not fill an element are ignored.
    public func withUnsafeElements<T: BitwiseCopyable, R>(
        of type: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R
    ) rethrows -> R {
        try withUnsafeBytes { raw in
            let elements = raw.count / MemoryLayout<T>.stride
            guard let base = raw.baseAddress, elements > 0 else {
                return try body(UnsafeBufferPointer(start: nil, count: 0))
            }
            if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
                let typed = base.bindMemory(to: T.self, capacity: elements)
                return try body(UnsafeBufferPointer(start: typed, count: elements))
            }
            let copy = UnsafeMutableBufferPointer<T>.allocate(capacity: elements)
            defer { copy.deallocate() }
            UnsafeMutableRawBufferPointer(copy).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: raw.prefix(elements * MemoryLayout<T>.stride)))
            return try body(UnsafeBufferPointer(copy))
        }
    }

    /// The frame's elements where they lie, for a caller that keeps using
    /// them (summing into an outgoing frame, adopting a received one); nil
    /// when the frame is not aligned for `T`. Valid while the frame holds
    /// this content.
    public func elementsInPlace<T: BitwiseCopyable>(of type: T.Type) -> UnsafeMutableBufferPointer<T>? {
        withUnsafeMutableBytes { raw in
            Int(bitPattern: raw.baseAddress) % MemoryLayout<T>.alignment == 0 ? raw.bindMemory(to: T.self) : nil
        }
    }

    /// Writes the frame as elements of `T`, with the same alignment fallback (copied back afterwards).
    public func withUnsafeMutableElements<T: BitwiseCopyable, R>(
        of type: T.Type, _ body: (UnsafeMutableBufferPointer<T>) throws -> R
    ) rethrows -> R {
        try withUnsafeMutableBytes { raw in
            let elements = raw.count / MemoryLayout<T>.stride
            guard let base = raw.baseAddress, elements > 0 else {
                return try body(UnsafeMutableBufferPointer(start: nil, count: 0))
            }
            if Int(bitPattern: base) % MemoryLayout<T>.alignment == 0 {
                let typed = base.bindMemory(to: T.self, capacity: elements)
                return try body(UnsafeMutableBufferPointer(start: typed, count: elements))
            }
            let used = UnsafeMutableRawBufferPointer(rebasing: raw.prefix(elements * MemoryLayout<T>.stride))
            let copy = UnsafeMutableBufferPointer<T>.allocate(capacity: elements)
            defer { copy.deallocate() }
            UnsafeMutableRawBufferPointer(copy).copyMemory(from: UnsafeRawBufferPointer(used))
            defer { used.copyMemory(from: UnsafeRawBufferPointer(copy)) }
            return try body(copy)
        }
    }
}
