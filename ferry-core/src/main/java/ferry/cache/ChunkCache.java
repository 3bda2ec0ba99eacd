package ferry.cache;

import ferry.cache.CacheLayout.ChunkFile;
import ferry.cache.CacheLayout.Description;
import ferry.cache.CacheLayout.Scan;
import ferry.cache.CacheLayout.Stem;
import ferry.cache.ChunkFormat.CorruptChunkException;
import ferry.cache.Ledger.Counter;
import ferry.store.local.FileErrors;
import ferry.time.Ticker;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The on-disk chunk cache behind the FastFile mount: chunks of objects, fetched with ranged GETs, kept in a folder
 * under a byte budget, shared by every process that opens the same folder and kept across restarts.
 *
 * <h2>Layout</h2>
 * <pre>
 * dir/ledger                              bytes held against the budget, flushed hit/miss counters (locked record)
 * dir/budget                              the budget it was last opened with, for commands not given one
 * dir/chunks/ab/&lt;sha256&gt;.&lt;index&gt;       a chunk: its bytes, its object's description, a trailer
 * dir/chunks/ab/.&lt;sha256&gt;.&lt;index&gt;.&lt;pid&gt;.&lt;random&gt;.&lt;bytes&gt;.ferry-tmp    being written
 * </pre>
 * {@code <sha256>} is the SHA-256 hex of the chunk key's object id, {@code ab} its first two digits, {@code <index>}
 * the chunk index in decimal; {@link ChunkFormat} describes a chunk file. The object's description ({"objectId",
 * "location", "size"} as JSON, from {@link #describe}) rides in every chunk, so a cached object of one chunk is one
 * file: no folder or other file per object to create, scan or delete. Chunks are written to a temporary file beside
 * their name and renamed, so a chunk's name only ever holds a whole chunk; temporary files of processes that are gone
 * are deleted by the next scan.
 *
 * <h2>Budget and eviction</h2>
 * The budget counts disk space: each chunk file's size rounded up to the file system's block. Every put reserves its
 * space in the ledger, under a lock shared with the other processes, before writing, and creates its temporary file
 * while holding it (named with its final size, so a rescan counts it). When a put would go over the budget the folder
 * is rescanned, so other processes' chunks count, and least recently used chunks are deleted down to 90% of the
 * budget, so eviction is rare. Recency is this process's own stamp for chunks it used, and the file's modification
 * time otherwise: a chunk's time is set when a process first uses it and about once a minute after, so processes see
 * each other's use. Opening scans the folder only when the ledger cannot be trusted or is over the budget: a ledger
 * only ever counts too much (a writer killed between reserving and renaming), never too little.
 *
 * <h2>Reads</h2>
 * Reads take no lock: an index lookup, then a positional read from a pooled open channel. The first read of a chunk
 * in a process checks its whole content against its CRC32C; a bad chunk is logged, deleted and reported as a miss.
 * Chunks this process put itself are not checked again: their bytes and CRC32C came from the caller, and a chunk
 * torn on disk later is caught by the next process that opens the folder.
 *
 * <p>Reads and puts set a pending interrupt aside and restore it: Java closes a file channel when a thread using it
 * is interrupted, which would close it for every thread sharing it.
 */
public final class ChunkCache implements Closeable {
    private static final System.Logger LOG = System.getLogger(ChunkCache.class.getName());
    static final long TOUCH_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** A use this close to the last recorded one is not written again, sparing a shared cache line on hot chunks. */
    private static final long STAMP_RESOLUTION_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int READ_ATTEMPTS = 3;
    /**
     * Objects whose description is kept in memory, to be written into each chunk of theirs that is stored: the objects
     * being read need it, so a few thousand do.
     */
    static final int DESCRIBED_OBJECTS = 16_384;
    private static final byte[] NO_DESCRIPTION = {};
    /** How long puts are skipped after one found the disk full, unless this process frees room first. */
    static final long NO_SPACE_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long ROOM = Long.MIN_VALUE / 2;
    private static final ThreadLocal<ChunkFormat.Verifier> VERIFIERS =
            ThreadLocal.withInitial(ChunkFormat.Verifier::new);

    private final CacheLayout layout;
    private final long budget;
    private final long lowWater;
    private final Ledger ledger;
    private final Ticker ticker;
    /** Wall-clock nanoseconds at {@link #anchorTick}: turns ticker readings into times files can carry. */
    private final long anchorWallNanos;
    private final long anchorTick;
    private final ConcurrentHashMap<ChunkKey, CachedChunk> index = new ConcurrentHashMap<>();
    /** What {@link #describe} was told about the objects used lately; a description is written with a chunk. */
    private final RecentMap<String, byte[]> described = new RecentMap<>(DESCRIBED_OBJECTS);
    private final ChannelPool pool;
    private final LongAdder[] counters = new LongAdder[Counter.COUNT];
    /** The counters as last written to the ledger; guarded by its own monitor. */
    private final long[] flushed = new long[Counter.COUNT];
    private final Set<String> loggedFailures = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** When a put last found the disk full (ticker nanoseconds); {@link #ROOM} once this process frees room. */
    private volatile long noSpaceAt = ROOM;

    private ChunkCache(CacheLayout layout, long budget, Ledger ledger, int openChannels, Ticker ticker, Clock clock) {
        this.layout = layout;
        this.budget = budget;
        this.lowWater = budget - budget / 10;
        this.ledger = ledger;
        this.ticker = ticker;
        this.anchorTick = ticker.nanoTime();
        Instant now = clock.instant();
        this.anchorWallNanos = TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano();
        this.pool = new ChannelPool(openChannels);
        for (int i = 0; i < counters.length; i++) {
            counters[i] = new LongAdder();
        }
    }

    /**
     * Opens (creating if needed) a cache folder with a byte budget. Existing chunks are kept (the cache survives
     * restarts) and found when first read. The folder is scanned only if its ledger is new or damaged or counts more
     * than the budget, and then chunks over the budget are evicted at once, so opening a sound cache costs the same
     * whatever it holds. Temporary files of dead writers, still counted against the budget, go at the next scan.
     *
     * @throws IllegalArgumentException if the budget is not positive, or if the folder holds other files but is not a
     *     cache (nothing is written into it then)
     * @throws IOException if the folder cannot be created or used, naming it and what to do
     */
    public static ChunkCache open(Path dir, long budgetBytes) throws IOException {
        return open(dir, budgetBytes, defaultOpenChannels(), Ticker.SYSTEM, Clock.systemUTC());
    }

    /**
     * Refuses, as {@link #open} would, a folder that holds other files but is not a cache, and writes nothing: for a
     * command that opens the cache only later (a training job, at its first FastFile channel) and should refuse a
     * wrong folder before it starts. A missing or empty folder passes; a file in its place, or on its way, does not.
     *
     * @throws IllegalArgumentException naming the folder, or the file in its way, and what to do
     */
    public static void checkFolder(Path dir) throws IOException {
        CacheLayout.requireCacheOrEmpty(Objects.requireNonNull(dir, "dir is null"));
        CacheLayout.requireNoFileInTheWay(dir, dir);
    }

    /**
     * The budget the cache in {@code dir} was last opened with, else {@code otherwise}: what a command that is not
     * given one should use, so that looking at a cache (or preloading it) never trims it to a smaller default.
     */
    public static long recordedBudget(Path dir, long otherwise) {
        long recorded = CacheLayout.readBudget(dir);
        return recorded > 0 ? recorded : otherwise;
    }

    /**
     * Chunk files held open: a quarter of the process's descriptor limit, between 128 and 4096. Random reads over a
     * 1 GiB file (1,024 chunks) with 128 open spent most of their time opening and closing chunk files: 110-130k
     * IOPS in the mount benchmark against 170-210k with 2,048.
     */
    static int defaultOpenChannels() {
        return (int) Math.clamp(descriptorLimit() / 4, 128, 4096);
    }

    /**
     * This process's limit on open files, from {@code /proc/self/limits} (the JVM's management beans would tell the
     * same for some 30 ms of start-up), or 0 where that cannot be read.
     */
    private static long descriptorLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc: the smallest pool
        }
        return 0;
    }

    static ChunkCache open(Path dir, long budgetBytes, int openChannels, Ticker ticker, Clock clock)
            throws IOException {
        checkBudget(dir, budgetBytes);
        return open(CacheLayout.create(dir), budgetBytes, openChannels, ticker, clock);
    }

    /** As the above, counting disk space in blocks of {@code blockBytes}: tests count file sizes with 1. */
    static ChunkCache open(Path dir, long budgetBytes, int openChannels, Ticker ticker, Clock clock, long blockBytes)
            throws IOException {
        checkBudget(dir, budgetBytes);
        return open(CacheLayout.create(dir, blockBytes), budgetBytes, openChannels, ticker, clock);
    }

    private static void checkBudget(Path dir, long budgetBytes) {
        Objects.requireNonNull(dir, "dir is null");
        if (budgetBytes <= 0) {
            throw new IllegalArgumentException("the budget of cache folder " + dir + " must be positive, got "
                    + budgetBytes + " bytes; give it a size such as 10 GiB");
        }
    }

    private static ChunkCache open(CacheLayout layout, long budgetBytes, int openChannels, Ticker ticker, Clock clock)
            throws IOException {
        Objects.requireNonNull(ticker, "ticker is null");
        Objects.requireNonNull(clock, "clock is null");
        layout.writeBudget(budgetBytes);
        Ledger ledger = Ledger.open(layout.ledgerFile());
        ChunkCache cache = new ChunkCache(layout, budgetBytes, ledger, openChannels, ticker, clock);
        try {
            ledger.locked(state -> {
                // A sound ledger within the budget needs no scan, so a mount starts at once over a cache of
                // millions of chunks; the first put that finds the budget full scans the folder anyway.
                if (state.usedBytes == Ledger.UNKNOWN || state.usedBytes > budgetBytes) {
                    state.usedBytes = cache.rescan(budgetBytes, cache.lowWater);
                }
                return null;
            });
        } catch (IOException | RuntimeException e) {
            ledger.close();
            throw e;
        }
        return cache;
    }

    /**
     * Copies bytes [offset, offset+dst.remaining()) of the cached chunk into dst (may be a direct buffer), returning
     * the number of bytes copied (less only at the chunk's end, 0 at or past it), or -1 on a miss. On a miss dst is
     * left as it was. The first use of a chunk in this process checks its whole content against its CRC32C; a bad
     * chunk is logged, deleted and reported as a miss. A chunk deleted by another process while open here still reads.
     */
    public int read(ChunkKey key, long offset, ByteBuffer dst) {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset " + offset + " in chunk " + key);
        }
        // A pending interrupt would make the read close the channel that other threads share; set it aside.
        boolean interrupted = Thread.interrupted();
        try {
            return readChunk(key, offset, dst);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private int readChunk(ChunkKey key, long offset, ByteBuffer dst) {
        for (int attempt = 0; attempt < READ_ATTEMPTS && !closed; attempt++) {
            CachedChunk chunk = index.get(key);
            if (chunk == null && (chunk = discover(key)) == null) {
                break;
            }
            FileChannel channel = chunk.channel();
            if (channel == null && (channel = openChannel(chunk)) == null) {
                continue;
            }
            try {
                if (!chunk.verified && !verify(chunk, channel)) {
                    break;
                }
                int copied = copy(chunk, channel, offset, dst);
                used(chunk);
                counters[Counter.HITS.ordinal()].increment();
                return copied;
            } catch (ClosedByInterruptException e) {
                // This thread was interrupted, which closed the channel for every reader; they open it again.
                chunk.closeChannel(channel);
                break;
            } catch (ClosedChannelException e) {
                // The pool or an eviction closed it while this thread read: look the chunk up again.
            } catch (IOException e) {
                readFailed(chunk, e);
                break;
            }
        }
        counters[Counter.MISSES.ordinal()].increment();
        return -1;
    }

    /**
     * The CRC32C of a cached chunk's bytes, once this process has written or checked the chunk (as every {@link #read}
     * that returns bytes has); -1 if it is not cached or not yet checked. Lets a reader check a whole object whose
     * chunks came from the cache.
     */
    public long crc32c(ChunkKey key) {
        CachedChunk chunk = index.get(key);
        return chunk != null && chunk.verified ? chunk.crc32c & 0xffffffffL : -1;
    }

    /** True if the chunk is cached (no checksum check; a chunk another process just evicted may still say true). */
    public boolean contains(ChunkKey key) {
        return !closed && (index.containsKey(key) || discover(key) != null);
    }

    /**
     * True if the chunk is cached, which then counts as used now, as by a read: a preload that finds a chunk already
     * there must keep it from eviction as it keeps the chunks it fetches.
     */
    public boolean keep(ChunkKey key) {
        if (closed) {
            return false;
        }
        CachedChunk chunk = index.get(key);
        if (chunk == null && (chunk = discover(key)) == null) {
            return false;
        }
        used(chunk);
        return true;
    }

    /**
     * Stores a chunk atomically (temp file in the same folder + rename, written with its CRC32C); the caller gives the
     * CRC32C it computed of bytes, whose remaining bytes are the chunk (their position is not consumed). Returns false
     * (and logs once per failure kind, never throws for I/O) if it could not be stored, e.g. disk full: the mount then
     * serves the bytes uncached. Never leaves a partial chunk under its final name. Evicts least-recently-used chunks
     * when the budget would be exceeded.
     */
    public boolean put(ChunkKey key, ByteBuffer bytes, int crc32c) {
        Objects.requireNonNull(key, "key is null");
        Objects.requireNonNull(bytes, "bytes is null");
        // As in read: a pending interrupt would close the channels; the caller finds it still set afterwards.
        boolean interrupted = Thread.interrupted();
        try {
            return !closed && store(key, bytes, crc32c);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private boolean store(ChunkKey key, ByteBuffer bytes, int crc32c) {
        if (ticker.nanoTime() - noSpaceAt < NO_SPACE_PAUSE_NANOS) {
            // The disk was full a moment ago: each try would rescan the folder under the shared lock and fail again.
            counters[Counter.STORE_FAILURES.ordinal()].increment();
            return false;
        }
        ByteBuffer data = bytes.duplicate();
        int length = data.remaining();
        ByteBuffer tail = ChunkFormat.tail(length, crc32c, descriptionOf(key.objectId()));
        long fileBytes = (long) length + tail.remaining();
        long footprint = layout.footprint(fileBytes);
        if (footprint > budget) {
            return storeFailed("too large", "cannot cache chunk " + key.index() + " of " + key.objectId() + ": its "
                    + footprint + " bytes on disk exceed the whole budget of " + budget + " bytes of " + layout.dir
                    + "; raise the cache budget", null);
        }
        Stem stem = layout.stemOf(key.objectId());
        Path temp = stem.temp(key.index(), fileBytes);
        FileChannel opened;
        try {
            opened = reserve(temp, footprint);
        } catch (IOException e) {
            abandon(temp, 0, e); // In case the file was made before the ledger failed.
            return storeFailed(key, e);
        }
        try {
            // No fsync: a chunk torn by a power cut fails its CRC32C on first use and is fetched again, so forcing
            // every chunk to disk would cost throughput and buy nothing.
            try (FileChannel out = opened) {
                ByteBuffer[] parts = {data, tail};
                while (parts[1].hasRemaining()) {
                    out.write(parts);
                }
            }
            commit(temp, stem.chunk(key.index()));
        } catch (IOException e) {
            abandon(temp, footprint, e);
            return storeFailed(key, e);
        }
        long tick = ticker.nanoTime();
        CachedChunk replaced = index.put(key, CachedChunk.written(key, layout, length, crc32c, wallNanos(tick), tick));
        if (replaced != null) {
            replaced.remove();
        }
        return true;
    }

    /**
     * Records which object a chunk's objectId belongs to, so status can group by it: location is the object's URI
     * string (e.g. "s3://bucket/prefix/a.jpg"). Call once per object before its first put. Kept in memory for the
     * objects used lately and written into each chunk the object's puts store.
     */
    public void describe(String objectId, String location, long objectSize) {
        Objects.requireNonNull(objectId, "objectId is null");
        Objects.requireNonNull(location, "location is null");
        if (!closed) {
            described.merge(objectId, description(objectId, location, objectSize), (old, now) -> now);
        }
    }

    /** What each chunk of a described object carries: its description, unless that is too long to store. */
    private static byte[] description(String objectId, String location, long objectSize) {
        byte[] json = new Description(objectId, location, objectSize).json();
        return json.length <= ChunkFormat.MAX_DESCRIPTION_BYTES ? json : NO_DESCRIPTION;
    }

    /**
     * The disk space a described object's chunks take once all are stored, as the budget counts it: each chunk of
     * {@code chunkSize} bytes (the last one shorter) with the description and a trailer, rounded up to the file
     * system's block. Lets a caller that means to cache whole objects (a preload) tell whether they fit the budget
     * before fetching any.
     */
    public long space(String objectId, String location, long objectSize, int chunkSize) {
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("the chunk size must be positive, got " + chunkSize);
        }
        long overhead = description(objectId, location, objectSize).length + ChunkFormat.TRAILER_BYTES;
        long whole = objectSize / chunkSize;
        long rest = objectSize % chunkSize;
        return whole * layout.footprint(chunkSize + overhead) + (rest > 0 ? layout.footprint(rest + overhead) : 0);
    }

    /** The byte budget this cache was opened with, which {@link #space} is measured against. */
    public long budgetBytes() {
        return budget;
    }

    private byte[] descriptionOf(String objectId) {
        byte[] json = described.get(objectId);
        return json != null ? json : NO_DESCRIPTION;
    }

    /**
     * Drops every cached chunk of objectId (e.g. its bytes failed the whole-object checksum).
     *
     * @throws UncheckedIOException if its files cannot be deleted, naming the folder
     */
    public void invalidate(String objectId) {
        Objects.requireNonNull(objectId, "objectId is null");
        Stem stem = layout.stemOf(objectId);
        try {
            ledger.locked(state -> {
                state.addUsed(-layout.deleteObject(stem));
                noSpaceAt = ROOM;
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot drop the cached chunks of " + objectId + " in " + stem.fan()
                    + ": " + reasonOf(e) + "; delete its files named " + stem.hash() + ".* or run `ferry cache clear`",
                    e);
        } finally {
            // After the files, so a concurrent read cannot find a file again that is about to go.
            for (CachedChunk chunk : index.values()) {
                if (chunk.key.objectId().equals(objectId)) {
                    forget(chunk);
                }
            }
        }
    }

    /**
     * Counters and contents: bytes used, budget, chunk count, hits, misses, evictions, corrupt chunks dropped, store
     * failures, and bytes per object location. Scans the folder.
     */
    public CacheStatus status() throws IOException {
        Scan scan = layout.scan(false);
        SortedMap<String, Long> byLocation = new TreeMap<>();
        Map<String, List<ChunkFile>> byObject = new HashMap<>();
        for (ChunkFile chunk : scan.chunks()) {
            byObject.computeIfAbsent(chunk.hash(), hash -> new ArrayList<>()).add(chunk);
        }
        long used = 0;
        long undescribed = 0;
        for (List<ChunkFile> chunks : byObject.values()) {
            long bytes = 0;
            Description description = null;
            for (ChunkFile chunk : chunks) {
                bytes += chunk.footprint();
                if (description == null) {
                    description = CacheLayout.readDescription(chunk.path()); // one read per object, mostly
                }
            }
            used += bytes;
            if (description == null) {
                undescribed += bytes;
            } else {
                byLocation.merge(description.location(), bytes, Long::sum);
            }
        }
        long count = scan.chunks().size();
        long[] session = new long[Counter.COUNT];
        long[] allTime;
        synchronized (flushed) {
            for (int i = 0; i < session.length; i++) {
                session[i] = counters[i].sum();
            }
            allTime = ledger.locked(state -> {
                long[] sums = new long[Counter.COUNT];
                for (int i = 0; i < sums.length; i++) {
                    sums[i] = state.counters[i] + session[i] - flushed[i];
                }
                return sums;
            });
        }
        return new CacheStatus(layout.dir, budget, used, count, counters(session), counters(allTime), byLocation,
                undescribed);
    }

    /**
     * Persists this process's counters into the folder, added to what other processes wrote, so `ferry cache status`
     * run later shows a hit ratio. The mount calls it periodically; {@link #close} calls it. A failure is logged.
     */
    public void flushStats() {
        synchronized (flushed) {
            long[] now = new long[Counter.COUNT];
            for (int i = 0; i < now.length; i++) {
                now[i] = counters[i].sum();
            }
            try {
                ledger.locked(state -> {
                    for (int i = 0; i < now.length; i++) {
                        state.counters[i] += now[i] - flushed[i];
                    }
                    return null;
                });
                System.arraycopy(now, 0, flushed, 0, now.length);
            } catch (IOException e) {
                logOnce("flush " + kindOf(e), "cannot save the cache counters in " + layout.ledgerFile() + ": "
                        + reasonOf(e) + "; `ferry cache status` will miss this process's hits and misses", e);
            }
        }
    }

    /** Deletes every chunk (ferry cache clear); chunks other processes are writing at this moment may remain. */
    public void clear() throws IOException {
        ledger.locked(state -> {
            for (ChunkFile chunk : layout.scan(true).chunks()) {
                Files.deleteIfExists(chunk.path());
            }
            index.values().forEach(this::forget);
            state.usedBytes = layout.scan(false).footprint();
            noSpaceAt = ROOM;
            return null;
        });
    }

    /** Saves the counters and closes every open chunk file. Reads after this miss and puts return false. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        flushStats();
        closed = true;
        pool.closeAll();
        index.values().forEach(CachedChunk::closeChannel);
        index.clear();
        try {
            ledger.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot close cache ledger " + layout.ledgerFile(), e);
        }
    }

    // ---- reads

    /** A chunk file this process has not seen yet: written by another process, or before a restart. */
    private CachedChunk discover(ChunkKey key) {
        Path file = layout.stemOf(key.objectId()).chunk(key.index());
        if (!Files.isRegularFile(file)) {
            return null; // The usual case on a miss, answered without the cost of an exception.
        }
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            return null;
        }
        if (!attributes.isRegularFile()) {
            return null;
        }
        CachedChunk found = CachedChunk.found(key, layout, attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS));
        CachedChunk raced = index.putIfAbsent(key, found);
        return raced != null ? raced : found;
    }

    private FileChannel openChannel(CachedChunk chunk) {
        FileChannel opened;
        try {
            opened = FileChannel.open(chunk.file(), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            forget(chunk);
            return null;
        } catch (IOException e) {
            readFailed(chunk, e);
            return null;
        }
        FileChannel channel = chunk.install(opened);
        if (channel != opened) {
            try {
                opened.close();
            } catch (IOException ignored) {
                // Never used.
            }
            return channel;
        }
        if (chunk.isRemoved() || closed) {
            chunk.closeChannel(opened);
            return null;
        }
        pool.add(chunk);
        return opened;
    }

    private boolean verify(CachedChunk chunk, FileChannel channel) throws IOException {
        try {
            ChunkFormat.Checked checked = ChunkFormat.verify(channel, VERIFIERS.get());
            chunk.length = checked.length();
            chunk.crc32c = checked.crc32c();
            chunk.verified = true;
            return true;
        } catch (CorruptChunkException e) {
            dropCorrupt(chunk, e.getMessage());
            return false;
        }
    }

    private static int copy(CachedChunk chunk, FileChannel channel, long offset, ByteBuffer dst) throws IOException {
        int length = chunk.length;
        if (offset >= length) {
            return 0;
        }
        int start = dst.position();
        int limit = dst.limit();
        int count = (int) Math.min(dst.remaining(), length - offset);
        dst.limit(start + count);
        try {
            long position = offset;
            while (dst.hasRemaining()) {
                int read = channel.read(dst, position);
                if (read < 0) {
                    throw new IOException("chunk file " + chunk.file() + " ended before its recorded length "
                            + length);
                }
                position += read;
            }
        } catch (IOException e) {
            dst.position(start);
            throw e;
        } finally {
            dst.limit(limit);
        }
        return count;
    }

    /** Records a use: a stamp for this process's eviction and, now and then, the file's time for other processes. */
    private void used(CachedChunk chunk) {
        long tick = ticker.nanoTime();
        long stamp = wallNanos(tick);
        if (stamp - chunk.lastUsed > STAMP_RESOLUTION_NANOS) {
            chunk.lastUsed = stamp;
        }
        if (!chunk.referenced) {
            chunk.referenced = true;
        }
        if (!chunk.touched || tick - chunk.touchedAt >= TOUCH_INTERVAL_NANOS) {
            chunk.touched = true;
            chunk.touchedAt = tick;
            try {
                Files.setLastModifiedTime(chunk.file(), FileTime.from(stamp, TimeUnit.NANOSECONDS));
            } catch (IOException e) {
                // Gone or read-only: other processes then judge its recency by an older time, which is harmless.
            }
        }
    }

    private void dropCorrupt(CachedChunk chunk, String reason) {
        index.remove(chunk.key, chunk);
        if (!chunk.remove()) {
            return; // Another thread found it first.
        }
        counters[Counter.CORRUPT.ordinal()].increment();
        Path file = chunk.file();
        LOG.log(System.Logger.Level.WARNING, "dropping corrupt cache chunk " + file + " (chunk " + chunk.key.index()
                + " of " + chunk.key.objectId() + "): it " + reason + "; it will be fetched again");
        try {
            ledger.locked(state -> {
                long size = footprintIfExists(file);
                if (Files.deleteIfExists(file)) {
                    state.addUsed(-size);
                }
                return null;
            });
        } catch (IOException e) {
            logOnce("delete " + kindOf(e), "cannot delete corrupt cache chunk " + file + ": " + reasonOf(e)
                    + "; delete it by hand or run `ferry cache clear`", e);
        }
    }

    private void readFailed(CachedChunk chunk, IOException e) {
        forget(chunk);
        logOnce("read " + kindOf(e), "cannot read cache chunk " + chunk.file() + ": " + reasonOf(e)
                + "; serving it from the source instead", e);
    }

    private void forget(CachedChunk chunk) {
        index.remove(chunk.key, chunk);
        chunk.remove();
    }

    // ---- puts, under the ledger lock

    /**
     * Reserves a chunk's bytes in the ledger, evicting if needed, and creates its temporary file, all under the lock:
     * from then on a rescan by any process counts the chunk at its final size. Returns the file, open for writing.
     */
    private FileChannel reserve(Path temp, long footprint) throws IOException {
        FileChannel[] opened = new FileChannel[1];
        try {
            ledger.locked(state -> reserve(state, temp, footprint, opened));
            return opened[0];
        } catch (IOException | RuntimeException e) {
            if (opened[0] != null) {
                try {
                    opened[0].close(); // The ledger failed after the file was made; the caller deletes it.
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
    }

    private Void reserve(Ledger.State state, Path temp, long footprint, FileChannel[] opened) throws IOException {
        if (state.usedBytes == Ledger.UNKNOWN) {
            state.usedBytes = rescan(Long.MAX_VALUE, Long.MAX_VALUE);
        }
        if (state.usedBytes + footprint > budget) {
            // The ledger may count more than is there (a crashed writer); only a scan of the folder tells.
            state.usedBytes = rescan(budget - footprint, lowWater - footprint);
            if (state.usedBytes + footprint > budget) {
                throw new IOException("chunks being written at this moment (by this process or others sharing"
                        + " the folder) fill the budget of " + budget + " bytes; give the cache a larger budget"
                        + " (--cache-size)");
            }
        }
        try {
            opened[0] = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            Files.createDirectories(temp.getParent()); // the first chunk under this fan, or the cache was cleared
            opened[0] = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        }
        state.usedBytes += footprint;
        return null;
    }

    /**
     * Renames a written chunk into place. A chunk it replaces (another process's copy) is no longer counted; one that
     * a racing process renames in between is counted twice until the next scan: too much, never too little.
     */
    private void commit(Path temp, Path target) throws IOException {
        if (!Files.exists(target)) {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        ledger.locked(state -> {
            long replaced = footprintIfExists(target);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            state.addUsed(-replaced);
            return null;
        });
    }

    private void abandon(Path temp, long footprint, IOException cause) {
        try {
            ledger.locked(state -> {
                if (Files.deleteIfExists(temp)) {
                    state.addUsed(-footprint);
                }
                return null;
            });
        } catch (IOException e) {
            cause.addSuppressed(e);
            try {
                // Without the ledger the bytes stay counted until the next rescan, but the file must not linger.
                Files.deleteIfExists(temp);
            } catch (IOException again) {
                cause.addSuppressed(again);
            }
        }
    }

    /**
     * Counts the folder afresh and forgets chunks that are gone; if it holds more than {@code limit} bytes, deletes
     * least recently used chunks until at most {@code target} are held. Called with the ledger locked; returns the
     * bytes held.
     */
    private long rescan(long limit, long target) throws IOException {
        Scan scan = layout.scan(true);
        long held = scan.footprint();
        Map<Path, CachedChunk> known = new HashMap<>();
        for (CachedChunk chunk : index.values()) {
            known.put(chunk.file(), chunk);
        }
        record Candidate(ChunkFile file, CachedChunk chunk, long stamp) {}
        List<Candidate> candidates = new ArrayList<>();
        Set<Path> present = new HashSet<>();
        for (ChunkFile file : scan.chunks()) {
            Path path = file.path();
            present.add(path);
            CachedChunk chunk = known.get(path);
            long stamp = chunk == null ? file.modifiedNanos() : Math.max(file.modifiedNanos(), chunk.lastUsed);
            candidates.add(new Candidate(file, chunk, stamp));
        }
        known.forEach((path, chunk) -> {
            if (!present.contains(path)) {
                forget(chunk); // Deleted by another process; a later read looks at the disk again.
            }
        });
        if (held <= limit) {
            return held;
        }
        candidates.sort(Comparator.comparingLong(Candidate::stamp)
                .thenComparing(candidate -> candidate.file().path()));
        for (Candidate candidate : candidates) {
            if (held <= target) {
                break;
            }
            Path path = candidate.file().path();
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                logOnce("evict " + kindOf(e), "cannot evict cache chunk " + path + ": " + reasonOf(e), e);
                continue;
            }
            held -= candidate.file().footprint();
            noSpaceAt = ROOM;
            counters[Counter.EVICTIONS.ordinal()].increment();
            if (candidate.chunk() != null) {
                forget(candidate.chunk());
            }
        }
        return held;
    }

    // ---- helpers

    private long wallNanos(long tick) {
        return anchorWallNanos + (tick - anchorTick);
    }

    /** The space a file takes on disk, or 0 if it is not there. */
    private long footprintIfExists(Path file) throws IOException {
        if (!Files.exists(file)) {
            return 0; // The usual case, answered without the cost of an exception.
        }
        try {
            return layout.footprint(Files.size(file));
        } catch (NoSuchFileException e) {
            return 0;
        }
    }

    private boolean storeFailed(ChunkKey key, IOException e) {
        if (kindOf(e).equals("no space")) {
            noSpaceAt = ticker.nanoTime();
        }
        return storeFailed(kindOf(e), "cannot cache chunk " + key.index() + " of " + key.objectId() + " in "
                + layout.dir + ": " + reasonOf(e) + "; the mount serves it uncached", e);
    }

    private boolean storeFailed(String kind, String message, Exception cause) {
        counters[Counter.STORE_FAILURES.ordinal()].increment();
        logOnce("store " + kind, message, cause);
        return false;
    }

    /** Logs the first failure of each kind; later ones only count, so a full disk does not flood the log. */
    private void logOnce(String kind, String message, Exception cause) {
        if (loggedFailures.add(kind)) {
            LOG.log(System.Logger.Level.WARNING, message + " (later failures of this kind are not logged)", cause);
        }
    }

    private static String kindOf(IOException e) {
        String text = String.valueOf(e.getMessage());
        if (text.contains("No space left")) {
            return "no space";
        }
        return e instanceof AccessDeniedException ? "permission" : e.getClass().getSimpleName();
    }

    private static String reasonOf(IOException e) {
        return switch (kindOf(e)) {
            case "no space" -> "no space left on device (free space or lower the cache budget)";
            case "permission" -> "permission denied on " + ((AccessDeniedException) e).getFile()
                    + " (check the cache folder's owner and mode)";
            default -> FileErrors.reason(e);
        };
    }

    private static CacheStatus.Counters counters(long[] values) {
        return new CacheStatus.Counters(values[Counter.HITS.ordinal()], values[Counter.MISSES.ordinal()],
                values[Counter.EVICTIONS.ordinal()], values[Counter.CORRUPT.ordinal()],
                values[Counter.STORE_FAILURES.ordinal()]);
    }
}
