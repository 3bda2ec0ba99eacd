package ferry.mount;

import ferry.mount.ChunkReader.WholeObjectCheck;
import ferry.store.ObjectInfo;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One open file: the object version it reads, the read-ahead state of its reader, and the chunks it fetched or
 * is fetching (a few, by index), so that the next read of the same chunk needs neither the cache nor the store.
 */
final class OpenObject {
    final ObjectInfo object;
    /** The cache's name for this object version: location, version tag and chunk size. */
    final String id;
    final String path;
    final int chunks;
    /** The whole-object CRC32C, once known (from the listing, the manifest or the first response), else -1L. */
    volatile long expectedCrc;
    /** The object's check, shared with other readers of it, if it has more than one chunk; else {@code null}. */
    final WholeObjectCheck check;
    /** Whether the cache was told which object this is (once per open file, before its first chunk is stored). */
    private boolean described; // guarded by this

    private final long[] recentIndex;
    private final IncomingChunk[] recent;
    /** Chunks this handle was served from while they arrived, until they are done; guarded by this. */
    private final List<IncomingChunk> servedEarly = new ArrayList<>();
    /** Chunks this handle has put through the object's check, so later reads of them skip it; guarded by this. */
    private final BitSet checked = new BitSet();
    private int checkedCount;

    // Read-ahead state: guarded by this object; only readers of this one file contend for it.
    private long nextOffset;
    private int window;
    private long scheduledThrough = -1;

    OpenObject(ObjectInfo object, String id, String path, int chunkSize, int maxWindow, WholeObjectCheck check) {
        this.object = object;
        this.check = check;
        this.id = id;
        this.path = path;
        this.chunks = (int) ((object.size() + chunkSize - 1) / chunkSize);
        this.expectedCrc = object.crc32c() == null ? -1L : Long.parseLong(object.crc32c(), 16);
        int slots = Math.max(1, Math.min(chunks, maxWindow + 2));
        this.recentIndex = new long[slots];
        java.util.Arrays.fill(recentIndex, -1);
        this.recent = new IncomingChunk[slots];
    }

    /** True the first time only: the caller then describes the object to the cache. */
    synchronized boolean describe() {
        boolean first = !described;
        described = true;
        return first;
    }

    /** Marks a chunk as checked through this handle; false if it already was. */
    synchronized boolean markChecked(long index) {
        if (checked.get((int) index)) {
            return false;
        }
        checked.set((int) index);
        checkedCount++;
        return true;
    }

    /** Whether this handle has read every chunk of the object (in whatever order). */
    synchronized boolean allChecked() {
        return checkedCount == chunks;
    }

    /** A chunk this file fetched recently, or {@code null}. */
    synchronized IncomingChunk recent(long index) {
        int slot = (int) (index % recent.length);
        return recentIndex[slot] == index ? recent[slot] : null;
    }

    /** The chunks this file fetched recently (some may be on their way). */
    synchronized List<IncomingChunk> recentChunks() {
        List<IncomingChunk> chunks = new ArrayList<>(recent.length);
        for (IncomingChunk chunk : recent) {
            if (chunk != null) {
                chunks.add(chunk);
            }
        }
        return chunks;
    }

    /** Notes a chunk this handle was served from before it was whole, so the end of the object waits for it. */
    synchronized void servedEarly(IncomingChunk chunk) {
        servedEarly.removeIf(CompletableFuture::isDone);
        if (!servedEarly.contains(chunk)) {
            servedEarly.add(chunk);
        }
    }

    /** The chunks this handle was served from before they were whole, and which are still arriving. */
    synchronized List<IncomingChunk> servedEarly() {
        servedEarly.removeIf(CompletableFuture::isDone);
        return List.copyOf(servedEarly);
    }

    synchronized void remember(long index, IncomingChunk chunk) {
        int slot = (int) (index % recent.length);
        recentIndex[slot] = index;
        recent[slot] = chunk;
    }

    /**
     * Records a read and says which chunks to fetch ahead of it: a reader that continues where it stopped doubles
     * its window (up to {@code maxWindow} chunks), any other read resets it, so random reads fetch nothing extra.
     * Chunks are scheduled once half a window of them is missing ahead of the reader.
     *
     * @return the first chunk index to fetch ahead in the high 32 bits, the last in the low 32 bits (none when
     *     first > last); packed so that the read path allocates nothing
     */
    synchronized long readAhead(long offset, int length, int chunkSize, int maxWindow) {
        // The kernel may hand a sequential reader's requests to several threads, so they can arrive a little out
        // of order: within one chunk of where the last one ended still counts as sequential.
        boolean sequential = Math.abs(offset - nextOffset) <= chunkSize;
        nextOffset = sequential ? Math.max(nextOffset, offset + length) : offset + length;
        long current = (offset + length - 1) / chunkSize;
        if (!sequential || current == chunks - 1) {
            release(current, sequential);
        }
        if (!sequential) {
            window = 0;
            scheduledThrough = -1; // a reader that starts over (another epoch) is read ahead again; held chunks skipped
            return NONE;
        }
        window = window == 0 ? 2 : Math.min(window * 2, maxWindow);
        long from = Math.max(current + 1, scheduledThrough + 1);
        long to = Math.min(chunks - 1L, current + window);
        // Top up in batches of half a window, so that each GET asks for several chunks: one request per chunk
        // would cost the client more CPU than the bytes do. The end of the object is scheduled whatever its size.
        if (from > to || (to - from + 1 < Math.max(1, window / 2) && to < chunks - 1)) {
            return NONE;
        }
        scheduledThrough = to;
        return from << 32 | to;
    }

    static final long NONE = 1L << 32; // from 1 to 0

    /**
     * Lets go of the fetched chunks this reader is done with: once a sequential reader reaches the end, those more
     * than one chunk behind it (the kernel's requests may arrive a little out of order); for a random reader, all but
     * the current one. They are in the cache, or still arriving (a later read finds them in flight, and the end of
     * the object waits for those this reader was served from early), or their fetch failed and is tried again; an
     * open file that kept them would hold a window of chunks in memory for as long as it stays open. Not on every
     * sequential read: a scan of the window there measured about a tenth slower on a cold 1 GiB read, for two chunks
     * of memory.
     */
    private void release(long current, boolean sequential) {
        for (int slot = 0; slot < recent.length; slot++) {
            long index = recentIndex[slot];
            if (index >= 0 && (sequential ? index < current - 1 : index != current)) {
                recentIndex[slot] = -1;
                recent[slot] = null;
            }
        }
    }

    /**
     * Lets go of every chunk it holds, also those still arriving (a later read finds them in flight or in the cache),
     * and starts its read-ahead window afresh: the mount holds too many windows, and this file was read least
     * recently. Chunks it was served from early are still waited for at the object's end.
     */
    synchronized void letGo() {
        java.util.Arrays.fill(recentIndex, -1);
        java.util.Arrays.fill(recent, null);
        window = 0;
        scheduledThrough = -1;
    }

    /** A read-ahead fetch that could not start: let the next read schedule it again. */
    synchronized void unschedule(long index) {
        if (index <= scheduledThrough) {
            scheduledThrough = index - 1;
        }
    }
}
