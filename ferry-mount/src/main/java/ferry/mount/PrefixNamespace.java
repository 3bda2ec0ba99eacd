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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * The tree under a prefix, one folder listing at a time (a delimiter listing on S3), each kept for the metadata
 * TTL: a {@code stat} of a name in a listed folder costs no request, and a change in the store shows once the
 * folder's listing expires. Where a key and a folder share a name, the folder is shown.
 */
final class PrefixNamespace implements Namespace {
    private record Level(List<Node> children, Map<String, Node> byName, long listedAt) {}

    private final ObjectStore store;
    private final Location prefix;
    private final long ttlNanos;
    private final Ticker ticker;
    private final ConcurrentHashMap<String, Level> levels = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<Level>> listing = new ConcurrentHashMap<>();

    PrefixNamespace(ObjectStore store, Location prefix, java.time.Duration ttl, Ticker ticker) {
        this.store = store;
        this.prefix = prefix.asDirectory();
        this.ttlNanos = ttl.toNanos();
        this.ticker = ticker;
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

    /** The listing of one folder: cached for the TTL; concurrent callers share one request. */
    private Level level(String path) throws IOException {
        Level level = levels.get(path);
        if (level != null && ticker.nanoTime() - level.listedAt < ttlNanos) {
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
            return fresh;
        } catch (IOException | RuntimeException e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            listing.remove(path, mine);
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
