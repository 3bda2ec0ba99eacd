package ferry.mount;

import ferry.store.FolderListing;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectStore;
import ferry.time.Ticker;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The tree under a prefix, one folder listing at a time (a delimiter listing on S3), each kept for the metadata
 * TTL: a {@code stat} of a name in a listed folder costs no request, and a change in the store shows once the
 * folder's listing expires. Where a key and a folder share a name, the folder is shown.
 *
 * <p>A folder a reader looks into also gets its first {@value #PREFETCHED_FOLDERS} sub-folders listed in the
 * background, {@value #PREFETCH_CONCURRENCY} at a time: a walk of the tree ({@code os.walk}, {@code find},
 * {@code ls -R}) finds them listed. One level ahead of the reader only, so a mount never crawls a bucket nobody
 * reads.
 */
final class PrefixNamespace implements Namespace {
    private record Level(List<Node> children, Map<String, Node> byName, long listedAt) {}

    static final int PREFETCHED_FOLDERS = 64;
    static final int PREFETCH_CONCURRENCY = 8;

    private final ObjectStore store;
    private final Location prefix;
    private final long ttlNanos;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, Level> levels = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<Level>> listing = new ConcurrentHashMap<>();
    private final Semaphore prefetchSlots = new Semaphore(PREFETCH_CONCURRENCY);
    /** Folders whose current listing has had its sub-folders listed ahead. */
    private final Set<String> listedAhead = ConcurrentHashMap.newKeySet();
    /** When listings older than the TTL were last dropped (ticker nanoseconds). */
    private final AtomicLong sweptAt;

    PrefixNamespace(ObjectStore store, Location prefix, java.time.Duration ttl, Ticker ticker) {
        this.store = store;
        this.prefix = prefix.asDirectory();
        this.ttlNanos = ttl.toNanos();
        this.ticker = ticker;
        this.sweptAt = new AtomicLong(ticker.nanoTime());
    }

    @Override
    public Node lookup(String path) throws IOException {
        if (path.equals("/")) {
            return Node.folder("");
        }
        Level parent = level(Namespace.parent(path));
        return parent.byName.get(path.substring(path.lastIndexOf('/') + 1));
    }

    @Override
    public List<Node> children(String path) throws IOException {
        if (!path.equals("/")) {
            Node node = lookup(path);
            if (node == null || !node.isFolder()) {
                return null;
            }
        }
        return level(path).children;
    }

    /** Whether a listing of the folder at {@code path} is held (tests). */
    boolean holds(String path) {
        return levels.containsKey(path);
    }

    @Override
    public boolean immutable() {
        return false;
    }

    @Override
    public long totalBytes() {
        return 0;
    }

    @Override
    public void changed(String path) {
        levels.remove(Namespace.parent(path));
    }

    private Level level(String path) throws IOException {
        return level(path, true);
    }

    /**
     * The listing of one folder: cached for the TTL; concurrent callers share one request. For a reader
     * ({@code forReader}), its sub-folders are listed ahead too.
     */
    private Level level(String path, boolean forReader) throws IOException {
        Level level = levels.get(path);
        if (level != null && ticker.nanoTime() - level.listedAt < ttlNanos) {
            if (forReader) {
                listAhead(path, level);
            }
            return level;
        }
        CompletableFuture<Level> mine = new CompletableFuture<>();
        CompletableFuture<Level> running = listing.putIfAbsent(path, mine);
        if (running != null) {
            return await(running, path);
        }
        try {
            Level fresh = list(path);
            levels.put(path, fresh);
            mine.complete(fresh);
            dropExpired(fresh.listedAt);
            if (forReader) {
                listedAhead.remove(path); // a new listing: its sub-folders may have changed
                listAhead(path, fresh);
            }
            return fresh;
        } catch (IOException | RuntimeException | Error e) {
            mine.completeExceptionally(e); // whatever it was: callers sharing this listing wait for it
            throw e;
        } finally {
            listing.remove(path, mine);
        }
    }

    /**
     * Drops the listings older than the TTL, at most once per TTL: a folder looked at again is listed again, so they
     * would only hold memory, that of every key a walk of the tree ever met.
     */
    private void dropExpired(long now) {
        long last = sweptAt.get();
        if (now - last < ttlNanos || !sweptAt.compareAndSet(last, now)) {
            return;
        }
        levels.values().removeIf(level -> now - level.listedAt >= ttlNanos);
        listedAhead.removeIf(path -> !levels.containsKey(path));
    }

    private void listAhead(String path, Level level) {
        if (!listedAhead.add(path)) {
            return;
        }
        int started = 0;
        for (Node child : level.children) {
            if (!child.isFolder()) {
                continue;
            }
            if (started++ == PREFETCHED_FOLDERS) {
                return;
            }
            String childPath = Namespace.child(path, child.name());
            Thread.ofVirtual().name("ferry-list-ahead").start(() -> {
                try {
                    prefetchSlots.acquire();
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    level(childPath, false);
                } catch (IOException | RuntimeException e) {
                    // a reader that lists it gets the error
                } finally {
                    prefetchSlots.release();
                }
            });
        }
    }

    private Level list(String path) throws IOException {
        long now = ticker.nanoTime();
        Location folder = path.equals("/") ? prefix : prefix.resolve(path.substring(1) + "/");
        FolderListing listed = store.listFolder(folder);
        Map<String, Node> byName = new HashMap<>();
        for (String name : listed.folders()) {
            if (Namespace.isValidName(name)) {
                byName.put(name, Node.folder(name));
            }
        }
        for (ObjectInfo object : listed.objects()) {
            String name = object.location().name();
            if (Namespace.isValidName(name) && !byName.containsKey(name)) {
                byName.put(name, new Node(name, object));
            }
        }
        List<Node> children = new ArrayList<>(byName.values());
        children.sort(java.util.Comparator.comparing(Node::name));
        return new Level(List.copyOf(children), byName, now);
    }

    private static Level await(CompletableFuture<Level> future, String path) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while listing " + path);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("cannot list " + path + ": " + e.getCause(), e.getCause());
        }
    }
}
