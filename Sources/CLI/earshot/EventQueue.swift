// The hand-off between source threads and the one thread that consumes their events.

import EarshotCore
import Foundation
import Synchronization

/// Source events from every source thread, waiting for the loop. Bounded: a source that
/// runs ahead of the screen (a large backlog) waits, instead of piling batches up in memory.
final class EventQueue: Sendable {
    private struct State {
        var items: [(Int, SourceEvent)] = []
        var bytes = 0
    }
    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)
    let limitBytes: Int

    init(limitBytes: Int = 8 << 20) { self.limitBytes = limitBytes }

    func push(_ source: Int, _ ev: SourceEvent, stop: StopToken) {
        var size = 0
        if case let .messages(b) = ev { size = b.bytes.count }
        while !stop.isStopped {
            let accepted = state.withLock { s -> Bool in
                guard s.bytes == 0 || s.bytes + size <= limitBytes else { return false }
                s.items.append((source, ev))
                s.bytes += size
                return true
            }
            if accepted { ready.signal(); return }
            usleep(500)
        }
    }

    /// Wakes a waiting consumer (when producers are done).
    func wake() { ready.signal() }

    /// Waits up to `timeoutMs` for something to be queued, then drains.
    func waitAndDrain(timeoutMs: Int) -> [(Int, SourceEvent)] {
        _ = ready.wait(timeout: .now() + .milliseconds(timeoutMs))
        return drain()
    }

    func drain() -> [(Int, SourceEvent)] {
        state.withLock { s in
            defer { s.items.removeAll(keepingCapacity: true); s.bytes = 0 }
            return s.items
        }
    }
}

