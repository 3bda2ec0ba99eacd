package ferry.transfer;

import ferry.checksum.ChecksumInputStream;
import ferry.checksum.Digests;
import ferry.store.Keys;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import ferry.store.PassedOver;
import ferry.store.StoreException;
import ferry.store.Stores;
import ferry.store.local.FileErrors;
import ferry.store.local.ProcessLock;
import ferry.store.local.RealPaths;
import ferry.time.Ticker;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Makes a destination prefix hold what a source prefix holds, transferring only what is new or changed.
 *
 * <p>The two listings are streamed and merged in key order, never held whole, while transfers run many at once.
 * An object is the same at both ends when sizes match and, by default, CRC32Cs match; a re-sync recognizes
 * unchanged objects from the state the last run recorded (both sides' version tags, a local file's with its change
 * time) without reading them. Each finished transfer is journaled, so a run killed half way resumes where it stopped.
 * Deletions ({@code delete}) happen only after every transfer of the run succeeded: a failed run deletes nothing.
 */
public final class Syncer {
    /**
     * How long after a local file's last change its recorded tag (size and time) is not trusted: a file system with
     * coarse times (an NFS server keeping seconds, FAT's two) gives a change made in the same tick the same time, so
     * the state would hide it for good. Such a file is compared by checksum on the next run, as Git does with "racy"
     * index entries. A minute, not a tick: an NFS server stamps times by its own clock, which may run behind ours.
     */
    private static final Duration RACY = Duration.ofMinutes(1);
    /** Recorded in place of a racy source's tag: no listing gives it, so the next run reads both sides. */
    private static final String RACY_TAG = "racy";

    /** How to tell that an object at the destination is already the source's. */
    public enum Compare {
        /** Same size and CRC32C (from the recorded state when neither side changed since, else read). */
        CHECKSUM,
        /** Same size, and the destination is not older than the source (cheaper, as rclone's default). */
        SIZE_MTIME,
        /** Same size. */
        SIZE_ONLY
    }

    /**
     * @param concurrency objects in flight at once
     * @param compare how unchanged objects are recognized
     * @param delete remove destination objects the source does not have (after all transfers succeeded)
     * @param dryRun plan only: read listings (and, to compare, data) but change nothing
     * @param filter which objects take part: its globs at both ends (excluded destination objects are never
     *     deleted), its size and age bounds only in choosing which source objects to copy
     * @param bytesPerSecond a bandwidth limit for the whole run, or 0 for none
     * @param readBack read each written object back and compare its CRC32C with what was sent
     * @param followLinks walk into a local source's symbolic links to folders (else they are passed over)
     */
    public record Options(int concurrency, Compare compare, boolean delete, boolean dryRun, Filter filter,
            long bytesPerSecond, boolean readBack, boolean followLinks) {
        public static final Options DEFAULT = new Options(64, Compare.CHECKSUM, false, false, Filter.ALL, 0, false,
                false);

        public Options {
            if (concurrency < 1 || concurrency > 4096) {
                throw new IllegalArgumentException("concurrency must be between 1 and 4096, was " + concurrency);
            }
            if (bytesPerSecond < 0) {
                throw new IllegalArgumentException("bandwidth limit must not be negative, was " + bytesPerSecond);
            }
        }
    }

    /**
     * The most decided objects whose results wait for an earlier one's: results go to the next state in key order,
     * so one slow early transfer holds every later result in memory, and past this many the listing waits for it.
     */
    static final int MAX_UNWRITTEN = 100_000;

    private final Stores stores;
    private final Path stateRoot;
    private final Clock clock;
    private final Ticker ticker;
    private final int maxUnwritten;

    /**
     * @param stateRoot where each source/destination pair keeps its state, journal and lock
     */
    public Syncer(Stores stores, Path stateRoot, Clock clock, Ticker ticker) {
        this(stores, stateRoot, clock, ticker, MAX_UNWRITTEN);
    }

    Syncer(Stores stores, Path stateRoot, Clock clock, Ticker ticker, int maxUnwritten) {
        this.stores = stores;
        this.stateRoot = stateRoot;
        this.clock = clock;
        this.ticker = ticker;
        this.maxUnwritten = maxUnwritten;
    }

    /**
     * The folder that holds the state (and the lock) of one source and destination pair. A local folder is named by its
     * real path, so that another name for it (a symbolic link, an automounter's path) shares its state and its lock.
     */
    public Path stateFolder(Location source, Location destination) {
        String pair = canonical(source) + "\n" + canonical(destination);
        byte[] digest = Digests.sha256().digest(pair.getBytes(StandardCharsets.UTF_8));
        return stateRoot.resolve(HexFormat.of().formatHex(digest, 0, 8));
    }

    /**
     * The CRC32Cs the last completed run recorded for the destination's objects, usable while an object still has
     * the recorded size and version tag (for a local file, its change time too): (key, destination object as
     * listed) to CRC32C, or {@code null}.
     */
    public BiFunction<String, ObjectInfo, String> recordedChecksums(Location source, Location destination)
            throws IOException {
        Map<String, SyncState.Entry> entries = SyncState.readAll(stateFolder(source, destination));
        return (key, object) -> {
            SyncState.Entry entry = entries.get(key);
            return entry != null && entry.size() == object.size()
                    && entry.destinationTag().equals(withVersion(object).etag()) ? entry.crc32c() : null;
        };
    }

    public SyncReport sync(Location source, Location destination, Options options, TransferListener listener)
            throws IOException, InterruptedException {
        checkApart(source, destination);
        Run run = new Run(source.asDirectory(), destination.asDirectory(), options, listener);
        return run.execute();
    }

    /** One run: its listings, counters and results. */
    private final class Run {
        private final Location sourcePrefix;
        private final Location destinationPrefix;
        private final Options options;
        private final TransferListener listener;
        private final ObjectStore from;
        private final ObjectStore to;
        private final RateLimiter limiter;
        private final Filter.Predicate filter;
        private final Instant start = clock.instant();
        /** Real time, not the injected clock: the kernel stamps files. */
        private final Instant racyAfter = Instant.now().minus(RACY);
        private final AtomicLong copiedObjects = new AtomicLong();
        private final AtomicLong copiedBytes = new AtomicLong();
        private final AtomicLong skippedObjects = new AtomicLong();
        private final AtomicLong skippedBytes = new AtomicLong();
        private final List<Failure> failures = Collections.synchronizedList(new ArrayList<>());
        private final List<SyncReport.Action> plan = Collections.synchronizedList(new ArrayList<>());
        /** Results by position in key order, written to the next state in that order as they complete. */
        private final Map<Long, Optional<SyncState.Entry>> results = new ConcurrentHashMap<>();
        /** Set while the listing waits for room among the results; a task that records one then wakes it. */
        private volatile boolean awaitingResults;
        private long nextPosition;
        private long nextToWrite;
        private SafeKeys safeKeys;
        private SyncState state;
        /** The keys of the source's entries passed over so far ({@link #shieldedBy}), and how many were taken in. */
        private final Set<String> shields = new HashSet<>();
        private int shieldsSeen;
        /** Copies that a local destination's old file or folder stood in the way of; see {@link #inTheWay}. */
        private BufferedWriter obstructedSpool;

        Run(Location sourcePrefix, Location destinationPrefix, Options options, TransferListener listener)
                throws IOException {
            this.sourcePrefix = sourcePrefix;
            this.destinationPrefix = destinationPrefix;
            this.options = options;
            this.listener = listener;
            this.from = stores.forLocation(sourcePrefix);
            this.to = stores.forLocation(destinationPrefix);
            this.limiter = options.bytesPerSecond() == 0 ? RateLimiter.UNLIMITED
                    : new RateLimiter(options.bytesPerSecond(), ticker);
            this.filter = options.filter().compile();
        }

        private ObjectListing listSource(Location prefix) throws IOException {
            return options.followLinks() ? from.listFollowingLinks(prefix, destinationPrefix) : from.list(prefix);
        }

        SyncReport execute() throws IOException, InterruptedException {
            // Every source key is seen, in scope or not, so that what was recorded for those left out is kept.
            FilteredListing sources = new FilteredListing(listSource(sourcePrefix), sourcePrefix, key -> true);
            if (sources.peek() == null) {
                if (sourcePrefix.isLocal() && Files.isRegularFile(sourcePrefix.toPath())) {
                    throw new StoreException(sourcePrefix, "source " + sourcePrefix.toPath() + " is a file, not a"
                            + " folder: sync takes folders; copy one file with 'ferry cp'");
                }
                if (sourcePrefix.isLocal() && !Files.isDirectory(sourcePrefix.toPath())) {
                    throw new ObjectNotFoundException(sourcePrefix, "source " + sourcePrefix + " does not exist");
                }
                if (!sourcePrefix.isLocal() && !sourcePrefix.path().isEmpty()
                        && from.find(withoutSlash(sourcePrefix)).isPresent()) {
                    throw new StoreException(sourcePrefix, "source " + withoutSlash(sourcePrefix) + " is an object,"
                            + " not a prefix: sync takes prefixes; copy one object with 'ferry cp'");
                }
                // An empty source is more often a wrong name than a wish for an empty destination (cp refuses it too).
                throw new ObjectNotFoundException(sourcePrefix, "source " + sourcePrefix + " has no objects:"
                        + " refusing to sync, so that --delete cannot empty the destination");
            }
            if (destinationPrefix.isLocal() && !options.dryRun()) {
                Path folder = destinationPrefix.toPath();
                Path file = FileErrors.fileInTheWay(folder);
                if (file != null) {
                    throw new StoreException(destinationPrefix, "destination " + folder
                            + (file.equals(folder) ? "" : " cannot be created: " + file) + " is a file, not a folder:"
                            + " give a folder, or remove the file");
                }
                try {
                    Files.createDirectories(folder);
                } catch (IOException e) {
                    throw new StoreException(destinationPrefix, "destination " + destinationPrefix
                            + " cannot be created: " + FileErrors.reason(e));
                }
                if (!Files.isWritable(folder)) {
                    throw new StoreException(destinationPrefix, "destination " + destinationPrefix
                            + " is not writable: " + (isReadOnly(folder) ? "its file system is mounted read-only"
                                    : "check its owner and mode"));
                }
                safeKeys = new SafeKeys(folder);
            } else if (destinationPrefix.isLocal() && Files.isDirectory(destinationPrefix.toPath())) {
                safeKeys = new SafeKeys(destinationPrefix.toPath()); // so that a dry run refuses the keys a run would
            }
            Path folder = stateFolder(sourcePrefix, destinationPrefix);
            String holder = "pid " + ProcessHandle.current().pid() + ", sync " + sourcePrefix + " to "
                    + destinationPrefix + ", started " + start;
            try (ProcessLock lock = ProcessLock.acquire(folder.resolve("lock"), holder, Syncer::busy)) {
                state = SyncState.open(folder);
                try {
                    return merge(sources, folder);
                } finally {
                    state.closeReaders();
                }
            }
        }

        private SyncReport merge(FilteredListing sources, Path folder) throws IOException, InterruptedException {
            FilteredListing destinations = new FilteredListing(to.list(destinationPrefix), destinationPrefix,
                    filter::inScope);
            Path deletesFile = folder.resolve("deletes.tmp");
            Path obstructedFile = folder.resolve("obstructed.tmp");
            long deletes = 0;
            long taken = 0;
            long outOfBounds = 0;
            try (SyncState.Output next = options.dryRun() ? null : state.newState();
                    BufferedWriter deleteSpool = Files.newBufferedWriter(deletesFile, StandardCharsets.UTF_8)) {
                obstructedSpool = Files.newBufferedWriter(obstructedFile, StandardCharsets.UTF_8);
                try (Parallel parallel = new Parallel(options.concurrency())) {
                    while (true) {
                        ObjectInfo s = sources.peek();
                        ObjectInfo d = destinations.peek();
                        if (s == null && d == null) {
                            break;
                        }
                        int order = s == null ? 1 : d == null ? -1 : Keys.compare(sources.key(), destinations.key());
                        if (order > 0) {
                            String key = destinations.key();
                            destinations.advance();
                            if (options.delete() && !shieldedBy(sources, key)) {
                                deleteSpool.write(SyncState.escape(key) + "\n");
                                deletes++;
                                if (options.dryRun()) {
                                    plan.add(new SyncReport.Action(key, "delete", d.size(), "not in source"));
                                }
                            }
                            continue;
                        }
                        String key = sources.key();
                        sources.advance();
                        if (order == 0) {
                            destinations.advance();
                        }
                        awaitRoom(next);
                        if (filter.test(key, s.size(), s.lastModified())) {
                            taken++;
                            decide(parallel, key, s, order == 0 ? d : null, state.lookup(key));
                        } else {
                            outOfBounds++;
                            leaveAlone(state.lookup(key)); // in the source, so never deleted; but not looked at
                        }
                        drain(next, false);
                    }
                } catch (IOException e) {
                    throw new StoreException(null, "sync stopped: " + e.getMessage() + ". " + copiedObjects.get()
                            + " objects were copied before that; run the same command again to resume", e);
                }
                drain(next, true);
                if (options.delete() && taken == 0) {
                    throw nothingTaken();
                }
                deleteSpool.close();
                obstructedSpool.close();
                long deleted = 0;
                long withheld = 0;
                boolean clean = failures.isEmpty();
                if (deletes > 0) {
                    if (!clean) {
                        withheld = deletes;
                        plan.removeIf(action -> action.action().equals("delete"));
                    } else {
                        deleted = options.dryRun() ? deletes : deleteAll(deletesFile);
                    }
                }
                copyObstructed(obstructedFile, clean && options.delete());
                if (next != null) {
                    next.commit();
                }
                List<Failure> sorted = new ArrayList<>(failures);
                sorted.sort(Comparator.comparing(Failure::key));
                List<SyncReport.Action> planned = new ArrayList<>(plan);
                planned.sort(Comparator.comparing(SyncReport.Action::key));
                return new SyncReport(sourcePrefix.toString(), destinationPrefix.toString(), options.dryRun(),
                        new SyncReport.Count(copiedObjects.get(), copiedBytes.get()),
                        new SyncReport.Count(skippedObjects.get(), skippedBytes.get()), outOfBounds,
                        new SyncReport.Count(deleted, 0), List.copyOf(sorted), passedOver(sources), withheld,
                        List.copyOf(planned),
                        Duration.between(start, clock.instant()));
            } finally {
                if (obstructedSpool != null) {
                    obstructedSpool.close();
                }
                Files.deleteIfExists(deletesFile);
                Files.deleteIfExists(obstructedFile);
            }
        }

        /**
         * Whether the source passed over an entry (a link to a folder, a named pipe) at this destination key or at a
         * folder on its way: what the destination has there is kept, not deleted for a link the sync does not follow.
         */
        private boolean shieldedBy(FilteredListing sources, String key) {
            List<PassedOver> passed = sources.listing.passedOver();
            while (shieldsSeen < passed.size()) {
                shields.add(passed.get(shieldsSeen++).key());
            }
            if (shields.isEmpty()) {
                return false;
            }
            for (String at = key; ; at = at.substring(0, at.lastIndexOf('/'))) {
                if (shields.contains(at)) {
                    return true;
                }
                if (at.indexOf('/') < 0) {
                    return false;
                }
            }
        }

        private List<PassedOver> passedOver(FilteredListing sources) {
            List<PassedOver> passed = List.copyOf(sources.listing.passedOver());
            passed.forEach(listener::passedOver);
            return passed;
        }

        /**
         * Refuses a {@code --delete} run whose filters take none of the source's objects: a mistyped glob or bound
         * would leave the run nothing to do but delete.
         */
        private StoreException nothingTaken() {
            return new StoreException(sourcePrefix, "the filters " + options.filter().describe() + " take none of"
                    + " the objects under " + sourcePrefix + ": refusing to sync with --delete, which would only"
                    + " delete; check the filters, or run without --delete");
        }

        /** Decides what one key needs: at once when listings and the recorded state suffice, else in a task. */
        private void decide(Parallel parallel, String key, ObjectInfo listed, ObjectInfo listedDestination,
                SyncState.Entry recorded) throws InterruptedException {
            long position = nextPosition++;
            ObjectInfo source = withVersion(listed);
            if (listedDestination == null) {
                transferLater(parallel, position, key, source, "copy", "new", recorded);
                return;
            }
            if (source.size() != listedDestination.size()) {
                transferLater(parallel, position, key, source, "update", "size differs", recorded);
                return;
            }
            ObjectInfo destination = withVersion(listedDestination);
            boolean recordedSame = recorded != null && recorded.size() == source.size()
                    && recorded.sourceTag().equals(source.etag()) && recorded.destinationTag().equals(destination.etag());
            switch (options.compare()) {
                case SIZE_ONLY -> skip(position, key, source, recordedSame ? recorded : null);
                case SIZE_MTIME -> {
                    if (!destination.lastModified().isBefore(source.lastModified())) {
                        skip(position, key, source, recordedSame ? recorded : null);
                    } else {
                        transferLater(parallel, position, key, source, "update", "source is newer", recorded);
                    }
                }
                case CHECKSUM -> {
                    if (recordedSame) {
                        skip(position, key, source, recorded);
                    } else {
                        parallel.submit(() -> compareChecksums(position, key, source, destination, recorded));
                    }
                }
            }
        }

        private void compareChecksums(long position, String key, ObjectInfo source, ObjectInfo destination,
                SyncState.Entry recorded) {
            try {
                String sourceCrc = crc32c(from, source, limiter);
                String destinationCrc = crc32c(to, destination, limiter);
                if (sourceCrc.equals(destinationCrc)) {
                    skip(position, key, source,
                            new SyncState.Entry(key, source.size(), sourceTag(source), destination.etag(), sourceCrc));
                } else {
                    transfer(position, key, withCrc(source, sourceCrc), "update", "checksum differs", recorded);
                }
            } catch (IOException | RuntimeException e) {
                fail(position, key, e, recorded);
            }
        }

        private void transferLater(Parallel parallel, long position, String key, ObjectInfo source, String action,
                String reason, SyncState.Entry recorded) throws InterruptedException {
            parallel.submit(() -> transfer(position, key, source, action, reason, recorded));
        }

        private void transfer(long position, String key, ObjectInfo source, String action, String reason,
                SyncState.Entry recorded) {
            if (options.dryRun()) {
                // A dry run writes nothing, so it checks the key as the copy would, and looks for what would stand in
                // the way of the write.
                try {
                    checkKey(key);
                } catch (IOException e) {
                    fail(position, key, e, recorded);
                    return;
                }
                Path inTheWay = inTheWay(key);
                if (inTheWay != null) {
                    String what = Files.isDirectory(inTheWay, LinkOption.NOFOLLOW_LINKS) ? "a folder"
                            : Files.isSymbolicLink(inTheWay) ? "a symbolic link" : "a file";
                    obstructed(position, key, inTheWay, new IOException(what + " is in the way: " + inTheWay),
                            recorded);
                    return;
                }
                planCopy(key, action, source.size(), reason);
                record(position, Optional.empty());
                return;
            }
            try {
                record(position, Optional.of(copy(key, source)));
            } catch (IOException | RuntimeException e) {
                // A key refused (a symbolic link on its way leads out) is not a swap of file and folder: no delete
                // makes it safe to write.
                Path inTheWay = e instanceof SafeKeys.UnsafeKeyException ? null : inTheWay(key);
                if (inTheWay == null) {
                    fail(position, key, e, recorded);
                } else {
                    obstructed(position, key, inTheWay, e, recorded);
                }
            }
        }

        /** In a dry run, what a copy would do, counted as the copy would be. */
        private void planCopy(String key, String action, long size, String reason) {
            plan.add(new SyncReport.Action(key, action, size, reason));
            copiedObjects.incrementAndGet();
            copiedBytes.addAndGet(size);
        }

        /**
         * A copy that a local destination's old file or folder stands in the way of: set aside for after the deletes,
         * or a failure whose advice names {@code --delete} only where the deletes would clear the way.
         */
        private void obstructed(long position, String key, Path inTheWay, Exception e, SyncState.Entry recorded) {
            String file = sourceFileAndFolder(key, inTheWay);
            if (file != null) {
                fail(position, key, new IOException(Failure.of(key, e).reason() + ": the source has both " + file
                        + " and keys below " + file + "/, and a local folder cannot hold a file and a folder of one"
                        + " name: leave one out with --exclude"), recorded);
                return;
            }
            boolean clearable = clearedByDeletes(inTheWay);
            if (options.delete() && clearable) {
                setAside(key, e);
                record(position, Optional.ofNullable(recorded));
                return;
            }
            String advice = options.delete() || !clearable ? "--delete does not remove it (it is excluded, the source"
                    + " has it too, or it is not a file Ferry lists, such as a symbolic link): remove it"
                    : "run with --delete to replace it, or remove it";
            fail(position, key, new IOException(Failure.of(key, e).reason() + swapAdvice(advice)), recorded);
        }

        /** Refuses a key that would not stay inside a local destination, as {@link #copy} does. */
        private void checkKey(String key) throws IOException {
            if (safeKeys != null) {
                safeKeys.resolve(key);
            } else if (destinationPrefix.isLocal()) {
                SafeKeys.checkSyntax(key); // a dry run into a folder not made yet: no link can be on the way
            }
        }

        /** Copies one object, journals and counts it; returns what the state records for it. */
        private SyncState.Entry copy(String key, ObjectInfo source) throws IOException {
            checkKey(key);
            // The change time is read after the copy: the rename that puts a local file in place sets it.
            ObjectInfo written = withVersion(ObjectCopy.copy(from, source, to, destinationPrefix.resolve(key), limiter,
                    options.readBack()));
            SyncState.Entry entry =
                    new SyncState.Entry(key, source.size(), sourceTag(source), written.etag(), written.crc32c());
            state.journal(entry);
            copiedObjects.incrementAndGet();
            copiedBytes.addAndGet(source.size());
            listener.objectDone(key, source.size());
            return entry;
        }

        /**
         * On a local destination, the file that stands where the key needs a folder, or the folder where it needs a
         * file: what the source held before a file became a folder or the other way round; else null.
         */
        private Path inTheWay(String key) {
            if (!destinationPrefix.isLocal()) {
                return null;
            }
            Path root = destinationPrefix.toPath();
            Path target = root.resolve(key);
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                return target;
            }
            for (Path folder = target.getParent(); folder != null && !folder.equals(root);
                    folder = folder.getParent()) {
                if (Files.exists(folder, LinkOption.NOFOLLOW_LINKS)
                        && !Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
                    return folder;
                }
            }
            return null;
        }

        /**
         * Whether {@code --delete} clears what is in the way: the file, or every file in the folder. Only then does
         * the copy wait for the deletes; otherwise it fails, and the run deletes nothing. The deletes remove what the
         * listing gives, files (a symbolic link to a file among them), never a link to a folder or a dangling one.
         */
        private boolean clearedByDeletes(Path inTheWay) {
            Path root = destinationPrefix.toPath();
            if (!Files.isDirectory(inTheWay, LinkOption.NOFOLLOW_LINKS)) {
                return Files.isRegularFile(inTheWay) && deleted(root.relativize(inTheWay).toString());
            }
            try (Stream<Path> inside = Files.walk(inTheWay)) {
                return inside.allMatch(path -> Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                        || Files.isRegularFile(path) && deleted(root.relativize(path).toString()));
            } catch (IOException | UncheckedIOException e) {
                return false;
            }
        }

        /**
         * The key that the source holds both as an object and as a folder of objects ({@code a} and {@code a/b}, as
         * an object store may), when that is what stands in the way of {@code key}; else null. Then no delete, nor
         * removing what is in the way, lets both be written.
         */
        private String sourceFileAndFolder(String key, Path inTheWay) {
            String other = destinationPrefix.toPath().relativize(inTheWay).toString();
            try {
                if (!other.equals(key)) { // a file where the key needs a folder: does the source have that file?
                    return filter.inScope(other) && from.find(sourcePrefix.resolve(other)).isPresent() ? other : null;
                }
                ObjectListing below = listSource(sourcePrefix.resolve(key + "/"));
                while (below.hasNext()) {
                    if (filter.inScope(sourcePrefix.relativize(below.next().location()))) {
                        return key;
                    }
                }
            } catch (IOException e) {
                // not known: the advice stays general
            }
            return null;
        }

        private static String swapAdvice(String what) {
            return ": the destination has a file where the source has a folder, or a folder where it has a file; "
                    + what;
        }

        /** Whether this run deletes the destination's {@code key}: in scope, and not in the source. */
        private boolean deleted(String key) {
            if (!filter.inScope(key) || Keys.isFerryRecord(key)) {
                return false;
            }
            try {
                return from.find(sourcePrefix.resolve(key)).isEmpty();
            } catch (IOException e) {
                return false;
            }
        }

        /** Keeps an obstructed copy, with why it failed, for after the deletes (one line: key, tab, reason). */
        private void setAside(String key, Exception e) {
            String reason = Failure.of(key, e).reason();
            synchronized (obstructedSpool) {
                try {
                    obstructedSpool.write(SyncState.escape(key) + "\t" + SyncState.escape(reason) + "\n");
                } catch (IOException spoolFailed) {
                    failures.add(Failure.of(key, spoolFailed));
                    listener.objectFailed(key, spoolFailed);
                }
            }
        }

        /**
         * Copies what was in the way of an old file or folder once the deletes have removed it ({@code retry}: the
         * run deleted, and nothing else failed); otherwise each is a failure that says what to do. Such objects miss
         * this run's state, written before them, so the next run compares them by checksum.
         */
        private void copyObstructed(Path obstructedFile, boolean retry) throws IOException, InterruptedException {
            try (BufferedReader in = Files.newBufferedReader(obstructedFile, StandardCharsets.UTF_8);
                    Parallel parallel = new Parallel(options.concurrency())) {
                String line;
                while ((line = in.readLine()) != null) {
                    int tab = line.indexOf('\t');
                    String key = SyncState.unescape(line.substring(0, tab));
                    String reason = SyncState.unescape(line.substring(tab + 1));
                    if (!retry) {
                        Failure failure = new Failure(key,
                                reason + swapAdvice("--delete replaces it once the run's other failures are fixed"));
                        failures.add(failure);
                        listener.objectFailed(key, new IOException(failure.reason()));
                        continue;
                    }
                    parallel.submit(() -> {
                        try {
                            if (options.dryRun()) {
                                planCopy(key, "copy", from.stat(sourcePrefix.resolve(key)).size(),
                                        "replaces what was in the way");
                                return;
                            }
                            removeEmptyFolder(destinationPrefix.toPath().resolve(key));
                            copy(key, withVersion(from.stat(sourcePrefix.resolve(key))));
                        } catch (IOException | RuntimeException e) {
                            failures.add(Failure.of(key, e));
                            listener.objectFailed(key, e);
                        }
                    });
                }
            }
        }

        /** Removes a folder the deletes emptied of files, with the empty folders left in it; a file stops it. */
        private static void removeEmptyFolder(Path folder) throws IOException {
            if (!Files.isDirectory(folder, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            try (Stream<Path> inside = Files.walk(folder)) {
                for (Path path : inside.sorted(Comparator.reverseOrder()).toList()) {
                    if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                        throw new IOException(path + " is in the way and is not a folder the deletes emptied");
                    }
                    Files.delete(path);
                }
            }
        }

        /** The source's tag to record, unless a change in the same tick of its file system's clock could hide. */
        private String sourceTag(ObjectInfo source) {
            return source.location().isLocal() && source.lastModified().isAfter(racyAfter) ? RACY_TAG : source.etag();
        }

        /** A source object outside the size or age bounds: nothing is done, and what was recorded is kept. */
        private void leaveAlone(SyncState.Entry recorded) {
            record(nextPosition++, Optional.ofNullable(recorded));
        }

        private void skip(long position, String key, ObjectInfo source, SyncState.Entry entry) {
            skippedObjects.incrementAndGet();
            skippedBytes.addAndGet(source.size());
            listener.objectDone(key, 0);
            record(position, Optional.ofNullable(entry));
        }

        private void fail(long position, String key, Exception e, SyncState.Entry recorded) {
            failures.add(Failure.of(key, e));
            listener.objectFailed(key, e);
            // The destination still holds what it held (writes are atomic), so what was recorded for it holds too.
            record(position, Optional.ofNullable(recorded));
        }

        private void record(long position, Optional<SyncState.Entry> result) {
            results.put(position, result);
            if (awaitingResults) {
                synchronized (results) {
                    results.notifyAll();
                }
            }
        }

        /** Waits, before the next key is decided, while {@link #maxUnwritten} results wait for an earlier one. */
        private void awaitRoom(SyncState.Output next) throws IOException, InterruptedException {
            while (nextPosition - nextToWrite >= maxUnwritten) {
                synchronized (results) {
                    awaitingResults = true;
                    try {
                        if (!results.containsKey(nextToWrite)) {
                            results.wait();
                        }
                    } finally {
                        awaitingResults = false;
                    }
                }
                drain(next, false);
            }
        }

        /**
         * Writes finished results to the next state in key order (a dry run, {@code next} null, drops them); with
         * {@code all}, every one (all are done).
         */
        private void drain(SyncState.Output next, boolean all) throws IOException {
            while (nextToWrite < nextPosition) {
                Optional<SyncState.Entry> result = results.remove(nextToWrite);
                if (result == null) {
                    if (all) {
                        throw new IllegalStateException("result " + nextToWrite + " missing after all tasks ended");
                    }
                    return;
                }
                if (result.isPresent() && next != null) {
                    next.write(result.get());
                }
                nextToWrite++;
            }
        }

        private long deleteAll(Path deletesFile) throws IOException, InterruptedException {
            AtomicLong deleted = new AtomicLong();
            try (BufferedReader in = Files.newBufferedReader(deletesFile, StandardCharsets.UTF_8);
                    Parallel parallel = new Parallel(options.concurrency())) {
                String line;
                while ((line = in.readLine()) != null) {
                    String key = SyncState.unescape(line);
                    parallel.submit(() -> {
                        try {
                            to.delete(destinationPrefix.resolve(key));
                            deleted.incrementAndGet();
                            if (destinationPrefix.isLocal()) {
                                removeEmptiedFolders(key);
                            }
                        } catch (IOException | RuntimeException e) {
                            failures.add(Failure.of(key, e));
                            listener.objectFailed(key, e);
                        }
                    });
                }
            }
            return deleted.get();
        }

        /**
         * Removes the local folders on a deleted key's way that the deletion left empty, up to the destination
         * itself: the source has no such folder any more, and a reader that lists folders (an image-folder dataset
         * whose folders are its classes) must not find an empty one. Of two deletions in one folder, the later one
         * finds it empty.
         */
        private void removeEmptiedFolders(String key) {
            Path root = destinationPrefix.toPath();
            Path folder = root.resolve(key).getParent();
            while (folder != null && folder.startsWith(root) && !folder.equals(root)
                    && !Files.isSymbolicLink(folder)) {
                try {
                    Files.delete(folder);
                } catch (IOException e) {
                    return; // not empty, or already removed by a neighbour's deletion
                }
                folder = folder.getParent();
            }
        }
    }

    /**
     * Refuses a source and destination that overlap (one is the other or lies inside it): a sync would copy into its
     * own source, once more at each run, and {@code --delete} would delete the source's own files as "not in the
     * source". Local folders are compared by their real paths, so another name for the same folder is caught too.
     *
     * @throws IllegalArgumentException naming both
     */
    public static void checkApart(Location source, Location destination) {
        if (within(destination, source) || within(source, destination)) {
            throw new IllegalArgumentException("source " + source.asDirectory() + " and destination "
                    + destination.asDirectory() + " overlap (one is inside the other): a sync would copy into its own"
                    + " source and --delete would delete from it; give two separate folders or prefixes");
        }
    }

    /** Whether the prefix {@code inner} is {@code outer} or lies below it (for folders, by their real paths). */
    static boolean within(Location inner, Location outer) {
        Location in = canonical(inner);
        Location out = canonical(outer);
        // Both end in '/': data-copy/ is not within data/.
        return in.scheme().equals(out.scheme()) && in.bucket().equals(out.bucket()) && in.path().startsWith(out.path());
    }

    private static Location canonical(Location location) {
        return location.isLocal() ? Location.of(RealPaths.of(location.toPath())).asDirectory() : location.asDirectory();
    }

    private static boolean isReadOnly(Path folder) {
        try {
            return Files.getFileStore(folder).isReadOnly();
        } catch (IOException e) {
            return false;
        }
    }

    private static SyncBusyException busy(String holder) {
        return new SyncBusyException("refusing to start: another run of this sync is in progress ("
                + (holder.isEmpty() ? "holder unknown" : holder) + "); wait for it to finish");
    }

    /** The prefix without its closing slash: the key of an object a user may have given in its place. */
    private static Location withoutSlash(Location prefix) {
        String text = prefix.toString();
        return Location.of(text.substring(0, text.length() - 1));
    }

    /**
     * A local file with its change time (ctime) added to its tag (size and time), at either end: no tool can set it,
     * so a file rewritten, or replaced by a rename, with its old size and time put back ({@code cp -p},
     * {@code touch -r}, an archive unpacked again, a destination copy edited behind Ferry's back) is not taken for
     * the one recorded. A source's is read before its bytes are, so a change made during the copy shows in the next
     * run. One stat per file that the listing does not give.
     */
    private static ObjectInfo withVersion(ObjectInfo object) {
        if (!object.location().isLocal()) {
            return object;
        }
        FileTime changed;
        try {
            changed = (FileTime) Files.getAttribute(object.location().toPath(), "unix:ctime");
        } catch (IOException | UnsupportedOperationException e) {
            return object; // gone (its copy will say so), or a file system without it: size and time only
        }
        String tag = object.etag() + "-" + Long.toHexString(changed.to(TimeUnit.NANOSECONDS));
        return new ObjectInfo(object.location(), object.size(), object.lastModified(), tag, object.crc32c());
    }

    private static ObjectInfo withCrc(ObjectInfo info, String crc32c) {
        return new ObjectInfo(info.location(), info.size(), info.lastModified(), info.etag(), crc32c);
    }

    /**
     * The CRC32C of an object: from the store's metadata when it keeps one, else by reading the object (paced by the
     * limiter when it is in an object store).
     */
    private static String crc32c(ObjectStore store, ObjectInfo object, RateLimiter limiter) throws IOException {
        if (object.crc32c() != null) {
            return object.crc32c();
        }
        if (!object.location().isLocal()) {
            ObjectInfo stat = store.stat(object.location());
            if (stat.crc32c() != null && stat.etag().equals(object.etag())) {
                return stat.crc32c();
            }
        }
        try (InputStream raw = store.openStream(object.location());
                ChecksumInputStream in = new ChecksumInputStream(limiter.paceFrom(object.location(), raw), false)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return in.crc32c();
        }
    }

    /** A listing with its next object in view, its key below the prefix, and only the keys it takes. */
    private static final class FilteredListing {
        private final ObjectListing listing;
        private final Location prefix;
        private final Predicate<String> takes;
        private ObjectInfo next;
        private String key;

        FilteredListing(ObjectListing listing, Location prefix, Predicate<String> takes) throws IOException {
            this.listing = listing;
            this.prefix = prefix;
            this.takes = takes;
            advance();
        }

        ObjectInfo peek() {
            return next;
        }

        String key() {
            return key;
        }

        void advance() throws IOException {
            next = null;
            key = null;
            while (listing.hasNext()) {
                ObjectInfo candidate = listing.next();
                String candidateKey = prefix.relativize(candidate.location());
                if (!Keys.isFerryRecord(candidateKey) && takes.test(candidateKey)) {
                    next = candidate;
                    key = candidateKey;
                    return;
                }
            }
        }
    }
}
