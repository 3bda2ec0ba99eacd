package ferry.cache;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Bounds the chunk files held open. Slots are reused in a circle like a clock hand; a chunk read since the hand last
 * passed it keeps its channel for another round. Adding is lock-free, and readers only set a flag.
 *
 * <p>A channel closed here while another thread reads from it makes that read fail with a closed-channel error;
 * the reader opens the file again. Java's channels keep the descriptor until such in-flight reads return.
 */
final class ChannelPool {
    private final AtomicReferenceArray<CachedChunk> slots;
    private final AtomicInteger hand = new AtomicInteger();

    ChannelPool(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("the channel pool needs at least one slot, got " + size);
        }
        this.slots = new AtomicReferenceArray<>(size);
    }

    /** Takes a slot for a chunk whose channel was just opened, closing the channel of the chunk that had it. */
    void add(CachedChunk chunk) {
        int size = slots.length();
        for (int step = 0; ; step++) {
            int slot = Math.floorMod(hand.getAndIncrement(), size);
            CachedChunk holder = slots.get(slot);
            if (holder != null && holder.referenced && step < size) {
                holder.referenced = false;
                continue;
            }
            if (slots.compareAndSet(slot, holder, chunk)) {
                if (holder != null && holder != chunk) {
                    holder.closeChannel();
                }
                return;
            }
        }
    }

    void closeAll() {
        for (int slot = 0; slot < slots.length(); slot++) {
            CachedChunk holder = slots.getAndSet(slot, null);
            if (holder != null) {
                holder.closeChannel();
            }
        }
    }
}
