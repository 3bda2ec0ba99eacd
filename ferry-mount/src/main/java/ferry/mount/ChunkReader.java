package ferry.mount;

import ferry.cache.ChunkCache;
import ferry.cache.ChunkKey;
import ferry.cache.RecentMap;
import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.zip.CRC32C;

/**
 * Reads objects in fixed-size chunks: from the open file's recent chunks, else the {@link ChunkCache}, else one
 * ranged GET per chunk that every concurrent reader of that chunk shares. Sequential readers get growing
 * read-ahead; random readers get none.
 *
 * <p>Every fetched chunk is checked to come from the version that was listed (its ETag and size), so a file
 * never mixes the bytes of two versions. An object of one chunk is checked against its CRC32C before any byte is
 * served; a larger one once this process has seen all its chunks, fetched or from the cache, by combining the chunks'
 * CRC32Cs (a mismatch then drops its cached chunks and fails every later read of it), and its chunks are served as
 * their bytes arrive, except the one that completes a reader's pass over the object (its end, or the last chunk it had
 * not read), which waits for the check. After a larger object was found whole and good, each of its chunks read again,
 * fetched anew or from a cache another process filled, must have the CRC32C it had then.
 */
final class ChunkReader implements Closeable {
    private static final System.Logger LOG = System.getLogger(ChunkReader.class.getName());
    private static final int ATTEMPTS = 3;
    /** Larger objects whose chunks' CRC32Cs are remembered after their files are closed. */
    static final int CHECKED_OBJECTS = 4_096;

    private final ObjectStore store;
    private final ChunkCache cache;
    private final int chunkSize;
    private final int maxWindow;
    private final Semaphore readAheadPermits;
    private final HeldWindows windows;
    private final ExecutorService fetchers = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("ferry-fetch-", 0).factory());
    private final ConcurrentHashMap<ChunkKey, IncomingChunk> inFlight = new ConcurrentHashMap<>();
    /**
     * The checks of the larger objects opened lately, shared by their readers; each open file holds its own, so one
     * dropped here only means a later opener starts a fresh check.
     */
    private final RecentMap<String, WholeObjectCheck> checks = new RecentMap<>(CHECKED_OBJECTS);
    /** Objects whose bytes failed the whole-object check, with the CRC32C they had: every later read fails. */
    private final ConcurrentHashMap<String, Integer> corrupt = new ConcurrentHashMap<>();

    /**
     * @param chunkSize bytes per ranged GET and per cache entry
     * @param maxWindow the most chunks one sequential reader fetches ahead
     * @param maxReadAhead the most read-ahead fetches in flight for the whole mount
     */
    ChunkReader(ObjectStore store, ChunkCache cache, int chunkSize, int maxWindow, int maxReadAhead) {
        this(store, cache, chunkSize, maxWindow, maxReadAhead, heldWindows(chunkSize, maxWindow));
    }

    /** @param maxHeldWindows the most open files that keep their read-ahead chunks in memory */
    ChunkReader(ObjectStore store, ChunkCache cache, int chunkSize, int maxWindow, int maxReadAhead,
            int maxHeldWindows) {
        if (chunkSize <= 0 || maxWindow < 0 || maxReadAhead < 0) {
            throw new IllegalArgumentException("chunk size, window and read-ahead must be positive");
        }
        this.store = store;
        this.cache = cache;
        this.chunkSize = chunkSize;
        this.maxWindow = maxWindow;
        this.readAheadPermits = new Semaphore(maxReadAhead);
        this.windows = new HeldWindows(maxHeldWindows);
    }

    /**
     * As many read-ahead windows as a quarter of the heap holds, between 2 and 1,024: a mount's default 6 GiB heap
     * (a quarter of 24 GiB) holds 45 windows of 34 MiB. Without a bound, a few hundred files read by turns, or left
     * open partway, would each keep a window, and run the mount out of memory.
     */
    private static int heldWindows(int chunkSize, int maxWindow) {
        long window = (long) (maxWindow + 2) * chunkSize;
        return (int) Math.clamp(Runtime.getRuntime().maxMemory() / 4 / window, 2, 1024);
    }

    int chunkSize() {
        return chunkSize;
    }

    /** Read-ahead slots not held by a fetch (tests wait on it). */
    int freeReadAheadSlots() {
        return readAheadPermits.availablePermits();
    }

    OpenObject open(ObjectInfo object, String path) {
        String id = objectId(object, chunkSize);
        WholeObjectCheck check = object.size() > chunkSize ? checks.computeIfAbsent(id, key -> new WholeObjectCheck(
                (int) ((object.size() + chunkSize - 1) / chunkSize))) : null;
        return new OpenObject(object, id, path, chunkSize, maxWindow, check);
    }

    /** What the cache keys an object's chunks by: its location and version, and the chunk size that cut it. */
    static String objectId(ObjectInfo object, int chunkSize) {
        return object.location() + " etag=" + object.etag() + " chunk=" + chunkSize;
    }

    /**
     * Copies bytes from {@code offset} into {@code dst} until it is full or the object ends.
     *
     * @return the number of bytes copied; 0 at or past the end
     */
    int read(OpenObject file, ByteBuffer dst, long offset) throws IOException {
        long size = file.object.size();
        if (offset >= size || !dst.hasRemaining()) {
            return 0;
        }
        failIfCorrupt(file);
        int length = (int) Math.min(dst.remaining(), size - offset);
        int start = dst.position();
        int end = start + length;
        int limit = dst.limit();
        try {
            while (dst.position() < end) {
                long position = offset + (dst.position() - start);
                long index = position / chunkSize;
                int within = (int) (position - index * chunkSize);
                int n = (int) Math.min(end - dst.position(), chunkLength(size, index) - within);
                dst.limit(dst.position() + n);
                copy(file, index, within, dst);
                dst.limit(limit);
            }
        } finally {
            dst.limit(limit);
        }
        long ahead = file.readAhead(offset, length, chunkSize, maxWindow);
        if (ahead != OpenObject.NONE) {
            windows.holding(file);
            fetchAhead(file, ahead >>> 32, ahead & 0xffffffffL);
        }
        return length;
    }

    /** Fills {@code dst} (up to its limit) from one chunk. */
    private void copy(OpenObject file, long index, int within, ByteBuffer dst) throws IOException {
        IncomingChunk recent = file.recent(index);
        if (recent == null || recent.isCompletedExceptionally()) { // a failed fetch is tried again
            ChunkKey key = new ChunkKey(file.id, index);
            // The fetches in flight first, then the cache: a fetch stores its chunk before it leaves the in-flight map,
            // so a chunk that moves from one to the other between the two looks is found, not fetched again.
            recent = inFlight.get(key);
            if (recent == null) {
                int wanted = dst.remaining();
                int copied = cache.read(key, within, dst);
                if (copied == wanted) {
                    checkCached(file, index, key);
                    return;
                }
                within += Math.max(copied, 0);
                recent = fetch(file, index);
            }
            file.remember(index, recent);
        }
        boolean end = index == file.chunks - 1; // also the only chunk of a one-chunk object
        boolean first = file.expectedCrc >= 0 && file.markChecked(index);
        boolean check = first || (end && file.expectedCrc >= 0);
        // The end of the object, or the last chunk this reader had not read (one that read the end first, as Parquet
        // and zip readers do), is served once the object is checked: a reader of the whole object learns of a mismatch.
        boolean completes = end || (first && file.allChecked());
        if (!completes && !recent.isDone() && awaitArrived(recent, within + dst.remaining(), file)) {
            // A larger object is checked whole when its last chunk is in (see the class comment), so the bytes of a
            // chunk still on its way are served as they arrive: the first byte does not wait for the whole chunk.
            dst.put(recent.bytes(), within, dst.remaining());
            file.servedEarly(recent);
            if (check) {
                // Its fetch may be another reader's, which had no CRC32C to check it against.
                IncomingChunk arriving = recent;
                arriving.thenRun(() -> checkQuietly(file, arriving));
            }
            return;
        }
        if (completes && file.chunks > 1 && file.expectedCrc >= 0) {
            awaitWholeCheck(file, recent);
        }
        byte[] bytes = await(recent, file);
        if (check) { // the fetch may have been another reader's, which had no CRC32C to check it against
            checkChunk(file, index, recent.crc);
        }
        dst.put(bytes, within, dst.remaining());
    }

    /**
     * Checks a fetched chunk for this reader where no reader waits (the fetch may have been another reader's that had
     * no CRC32C to check it against): a mismatch is recorded, and later reads of the object fail.
     */
    private void checkQuietly(OpenObject file, IncomingChunk chunk) {
        try {
            checkChunk(file, chunk.index, chunk.crc);
        } catch (ChecksumMismatchException e) {
            // recorded in corrupt; failIfCorrupt reports it to the next read
        }
    }

    /**
     * Before the end of a larger object is served, waits for the chunks its reader was served while they arrived:
     * whichever of them completes the whole-object check fails if the object is corrupt, so a reader that reads to
     * the end sees the mismatch instead of a clean end of file. Other failures of those chunks are their own readers'
     * business.
     */
    private void awaitWholeCheck(OpenObject file, IncomingChunk last) throws IOException {
        for (IncomingChunk chunk : file.servedEarly()) {
            if (chunk != last && !chunk.isDone()) {
                try {
                    await(chunk, file);
                    checkChunk(file, chunk.index, chunk.crc); // at once, not left to its completion's callback
                } catch (ChecksumMismatchException | InterruptedIOException e) {
                    throw e;
                } catch (IOException e) {
                    // not this read's failure
                }
            }
        }
        failIfCorrupt(file);
    }

    private void failIfCorrupt(OpenObject file) throws ChecksumMismatchException {
        Integer corruptCrc = corrupt.get(file.id);
        if (corruptCrc != null) {
            throw new ChecksumMismatchException(file.object.location(), "CRC32C", Crc32c.hex(file.expectedCrc),
                    Crc32c.hex(corruptCrc));
        }
    }

    private static boolean awaitArrived(IncomingChunk chunk, int end, OpenObject file) throws IOException {
        try {
            return chunk.awaitArrived(end);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading " + file.object.location());
        }
    }

    /** The file's handle was released: it no longer counts among the files holding chunks. */
    void closed(OpenObject file) {
        windows.closed(file);
    }

    /**
     * Fetches the first chunk of an object that is likely to be opened soon, if a read-ahead slot is free; false if
     * none was (the caller may try again later).
     */
    boolean prefetchStart(ObjectInfo object, String path) {
        return fetchAhead(open(object, path), 0, 0);
    }

    /**
     * The most chunks one read-ahead GET asks for: a window of 32 chunks is then fetched by up to four GETs at once.
     * Measured on a cold 1 GiB read: 16 chunks per GET (two at once) 2.2-2.6 s, 8 chunks 1.9-2.1 s, 4 chunks about
     * the same as 8 with more requests; a window of 64 chunks was slower with any of them.
     */
    private static final int RUN = 8;

    /**
     * Fetches chunks {@code from..to} ahead of a reader: contiguous chunks not yet held go together in one GET of up
     * to {@link #RUN} chunks (large requests for throughput, while the cache keeps chunk-sized entries and each chunk
     * is served as soon as its bytes are in). Each GET takes a read-ahead slot; none free means try again later, and
     * returns false.
     */
    private boolean fetchAhead(OpenObject file, long from, long to) {
        long first = from;
        while (first <= to) {
            if (held(file, first)) {
                first++;
                continue;
            }
            long last = first;
            while (last < to && last + 1 - first < RUN && !held(file, last + 1)) {
                last++;
            }
            if (!readAheadPermits.tryAcquire()) {
                file.unschedule(first);
                return false;
            }
            fetchRun(file, first, last).whenComplete((done, failure) -> readAheadPermits.release());
            first = last + 1;
        }
        return true;
    }

    private boolean held(OpenObject file, long index) {
        ChunkKey key = new ChunkKey(file.id, index);
        return file.recent(index) != null || inFlight.containsKey(key) || cache.contains(key);
    }

    /** Claims chunks {@code first..last} (up to the first one someone else is fetching) and fetches them in one GET. */
    private CompletableFuture<?> fetchRun(OpenObject file, long first, long last) {
        int count = (int) (last - first + 1);
        IncomingChunk[] claimed = new IncomingChunk[count];
        int n = 0;
        while (n < count) {
            IncomingChunk mine = new IncomingChunk(first + n, chunkLength(file.object.size(), first + n));
            if (inFlight.putIfAbsent(new ChunkKey(file.id, first + n), mine) != null) {
                break;
            }
            claimed[n] = mine;
            file.remember(first + n, mine);
            n++;
        }
        if (n == 0) {
            return CompletableFuture.completedFuture(null);
        }
        int claimedCount = n;
        CompletableFuture<Void> done = new CompletableFuture<>();
        fetchers.execute(() -> {
            try {
                downloadRun(file, first, claimed, claimedCount);
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    /** Fetches claimed chunks with one GET; chunks it could not get are fetched one by one, with retries. */
    private void downloadRun(OpenObject file, long first, IncomingChunk[] chunks, int count) {
        int next = 0;
        long length = 0;
        for (int i = 0; i < count; i++) {
            length += chunkLength(file.object.size(), first + i);
        }
        try (ObjectInputStream in = store.openStream(file.object.location(), first * chunkSize, length)) {
            checkVersion(file, in.info());
            for (; next < count; next++) {
                long index = first + next;
                Chunk chunk = readChunk(file, in, index, chunks[next]);
                check(file, index, chunk);
                finish(file, index, chunks[next], chunk);
            }
        } catch (ObjectChangedException | ObjectNotFoundException | ChecksumMismatchException e) {
            for (; next < count; next++) {
                fail(file, first + next, chunks[next], e);
            }
        } catch (IOException | RuntimeException e) {
            for (; next < count; next++) { // the rest one by one, each with its own retries
                try {
                    finish(file, first + next, chunks[next], download(file, first + next, chunks[next]));
                } catch (Throwable failure) {
                    fail(file, first + next, chunks[next], failure);
                }
            }
        } catch (Error e) {
            // Out of memory, say: the chunks must still end, or their readers (and later ones) would wait for ever.
            for (; next < count; next++) {
                fail(file, first + next, chunks[next], e);
            }
            throw e;
        }
    }

    /** The one fetch of a chunk that every reader shares; it also stores the chunk in the cache. */
    private IncomingChunk fetch(OpenObject file, long index) {
        ChunkKey key = new ChunkKey(file.id, index);
        IncomingChunk running = inFlight.get(key);
        if (running != null) {
            return running;
        }
        IncomingChunk mine = new IncomingChunk(index, chunkLength(file.object.size(), index));
        running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return running;
        }
        fetchers.execute(() -> {
            try {
                finish(file, index, mine, download(file, index, mine));
            } catch (Throwable e) {
                fail(file, index, mine, e);
            }
        });
        return mine;
    }

    /** Serves a fetched chunk to its waiting readers, then stores it in the cache and ends its in-flight entry. */
    private void finish(OpenObject file, long index, IncomingChunk future, Chunk chunk) {
        ChunkKey key = new ChunkKey(file.id, index);
        future.crc = chunk.crc();
        future.complete(chunk.bytes());
        if (file.describe()) {
            cache.describe(file.id, file.object.location().toString(), file.object.size());
        }
        cache.put(key, ByteBuffer.wrap(chunk.bytes()), chunk.crc());
        if (corrupt.containsKey(file.id)) {
            cache.invalidate(file.id); // the whole-object check failed while this chunk was being stored
        }
        inFlight.remove(key, future);
    }

    private void fail(OpenObject file, long index, IncomingChunk chunk, Throwable failure) {
        inFlight.remove(new ChunkKey(file.id, index), chunk); // first, so that a reader woken by it can try again
        chunk.completeExceptionally(failure);
    }

    /**
     * Fetches every chunk of {@code object} not yet cached, at most {@code perObject} at once (a large object must
     * not hold all its chunks in memory), and marks those cached as used; returns how many bytes it fetched.
     */
    long preload(ObjectInfo object, int perObject) throws IOException {
        OpenObject file = open(object, object.location().toString());
        long fetched = 0;
        java.util.ArrayDeque<IncomingChunk> window = new java.util.ArrayDeque<>();
        for (int i = 0; i < file.chunks; i++) {
            if (cache.keep(new ChunkKey(file.id, i))) {
                continue;
            }
            if (window.size() == perObject) {
                await(window.poll(), file);
            }
            window.add(fetch(file, i));
            fetched += chunkLength(object.size(), i);
        }
        while (!window.isEmpty()) {
            await(window.poll(), file);
        }
        return fetched;
    }

    /** One chunk into {@code target}, with retries: a demand read, or what a failed run left. */
    private Chunk download(OpenObject file, long index, IncomingChunk target) throws IOException, InterruptedException {
        IOException last = null;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try (ObjectInputStream in = store.openStream(file.object.location(), index * chunkSize,
                    chunkLength(file.object.size(), index))) {
                checkVersion(file, in.info());
                Chunk chunk = readChunk(file, in, index, target);
                check(file, index, chunk);
                return chunk;
            } catch (ObjectChangedException | ObjectNotFoundException | ChecksumMismatchException e) {
                throw e;
            } catch (InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                last = e;
                if (attempt < ATTEMPTS) {
                    Thread.sleep(100L << (2 * attempt - 2)); // 100 ms, then 400 ms
                }
            }
        }
        throw last;
    }

    /** Every GET must read the version that was listed: never a mix of two versions' bytes. */
    private static void checkVersion(OpenObject file, ObjectInfo now) throws ObjectChangedException {
        if (!now.etag().equals(file.object.etag()) || now.size() != file.object.size()) {
            throw new ObjectChangedException(file.object.location(), file.object.etag(), now.etag());
        }
        if (file.expectedCrc < 0 && now.crc32c() != null) {
            file.expectedCrc = Long.parseLong(now.crc32c(), 16);
        }
    }

    /** A chunk's bytes and their CRC32C, computed once for the checks and the cache. */
    private record Chunk(byte[] bytes, int crc) {}

    /** Reads one chunk into {@code target}'s array, straight from the response, telling readers what has arrived. */
    private Chunk readChunk(OpenObject file, ObjectInputStream in, long index, IncomingChunk target)
            throws IOException {
        byte[] bytes = target.start();
        int length = bytes.length;
        int n = 0;
        for (int got; n < length && (got = in.read(bytes, n, length - n)) >= 0; ) {
            n += got;
            target.arrived(n);
        }
        if (n != length) {
            throw new StoreException(file.object.location(), "read " + n + " of " + length
                    + " bytes at " + index * chunkSize + " of " + file.object.location()
                    + ": the object is shorter than listed");
        }
        return new Chunk(bytes, crc(bytes));
    }

    /** Checks what can be checked of a fetched chunk now; see the class comment. */
    private void check(OpenObject file, long index, Chunk chunk) throws ChecksumMismatchException {
        if (file.expectedCrc >= 0) { // else the store keeps no CRC32C for this object: its ETag and size were checked
            checkChunk(file, index, chunk.crc());
        }
    }

    /**
     * Checks a chunk served from the cache as a fetched one is checked: it may have been fetched by an earlier or
     * another process, from a copy in the store that has since gone bad, or for another mount that had no CRC32C to
     * check it against. Before the end of a larger object is served, waits for its chunks still on their way.
     */
    private void checkCached(OpenObject file, long index, ChunkKey key) throws IOException {
        if (file.expectedCrc < 0 || !file.markChecked(index)) {
            return; // nothing to check against, or checked already when this handle read the chunk before
        }
        long crc = cache.crc32c(key); // known: the read just checked the chunk, or this process wrote it
        if (crc >= 0) {
            checkChunk(file, index, (int) crc);
        }
        if (file.chunks > 1 && (index == file.chunks - 1 || file.allChecked())) {
            awaitWholeCheck(file, null);
        }
    }

    /**
     * Checks one chunk's CRC32C: an object of one chunk against the object's; a larger one's in the object's check,
     * the whole object's once all are in, then each chunk's. A mismatch drops the object's cached chunks and fails
     * every later read of it.
     */
    private void checkChunk(OpenObject file, long index, int crc) throws ChecksumMismatchException {
        long wrong;
        if (file.chunks == 1) {
            wrong = crc == (int) file.expectedCrc ? -1 : crc & 0xffffffffL;
        } else {
            wrong = file.check.add((int) index, crc, chunkSize, file.object.size(), (int) file.expectedCrc);
        }
        if (wrong >= 0) {
            corrupt.put(file.id, (int) wrong);
            cache.invalidate(file.id);
            throw mismatch(file, (int) wrong);
        }
    }

    private ChecksumMismatchException mismatch(OpenObject file, int actual) {
        ChecksumMismatchException e = new ChecksumMismatchException(file.object.location(), "CRC32C",
                Crc32c.hex(file.expectedCrc), Crc32c.hex(actual));
        LOG.log(Level.ERROR, "{0} ({1}): corrupt in the store or in transit; check it with ferry dataset verify",
                e.getMessage(), file.path);
        return e;
    }

    /**
     * The CRC32Cs of one object's chunks: until all are in and combine into the whole object's CRC32C, then, if that
     * matched, the CRC32C each chunk must have whenever it is read again.
     */
    static final class WholeObjectCheck {
        private final int[] crcs;
        private final BitSet seen;
        private int missing;

        WholeObjectCheck(int chunks) {
            this.crcs = new int[chunks];
            this.seen = new BitSet(chunks);
            this.missing = chunks;
        }

        /**
         * Adds a chunk's CRC32C; returns the CRC32C that is wrong (the whole object's when it is complete and does not
         * match {@code expected}, or a chunk's that differs from the one seen before) as an unsigned value, else -1.
         */
        synchronized long add(int index, int crc, int chunkSize, long size, int expected) {
            if (seen.get(index)) { // read again: two different copies of one chunk mean one of them is bad
                return crcs[index] == crc ? -1 : crc & 0xffffffffL;
            }
            seen.set(index);
            crcs[index] = crc;
            if (--missing > 0) {
                return -1;
            }
            int whole = crcs[0];
            for (int c = 1; c < crcs.length; c++) {
                whole = Crc32c.combine(whole, crcs[c], Math.min(chunkSize, size - (long) c * chunkSize));
            }
            return whole == expected ? -1 : whole & 0xffffffffL;
        }
    }

    private int chunkLength(long size, long index) {
        return (int) Math.min(chunkSize, size - index * chunkSize);
    }

    private static int crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }

    private byte[] await(CompletableFuture<?> chunk, OpenObject file) throws IOException {
        try {
            return (byte[]) chunk.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading " + file.object.location());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot read " + file.object.location() + ": " + cause, cause);
        }
    }

    /** Lets running fetches store their chunks (briefly), so that what was read stays cached, then stops. */
    @Override
    public void close() {
        fetchers.shutdown();
        try {
            if (!fetchers.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) {
                fetchers.shutdownNow();
            }
        } catch (InterruptedException e) {
            fetchers.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
