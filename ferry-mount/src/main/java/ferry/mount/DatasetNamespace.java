package ferry.mount;

import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A dataset version's tree, built once from its manifest: every {@code stat} and {@code readdir} is a map lookup,
 * with no request to the store, and sizes, times and checksums are exactly what the manifest recorded.
 */
final class DatasetNamespace implements Namespace {
    private static final System.Logger LOG = System.getLogger(DatasetNamespace.class.getName());

    private final Map<String, Node> nodes = new HashMap<>();
    private final Map<String, List<Node>> folders = new HashMap<>();
    private final long totalBytes;
    private int skippedShadowed;

    DatasetNamespace(Manifest manifest) {
        Location base = Location.of(manifest.base());
        folders.put("/", new ArrayList<>());
        int skipped = 0;
        for (Manifest.Entry entry : manifest.entries()) {
            if (!add(base, entry)) {
                skipped++;
            }
        }
        skipped += skippedShadowed;
        if (skipped > 0) {
            LOG.log(Level.WARNING, "{0} of {1}''s keys cannot be file names (an empty, . or .. segment, a name"
                    + " over 255 bytes, or a file where a folder of the same name exists) and are not shown", skipped, manifest.ref());
        }
        Comparator<Node> byName = Comparator.comparing(Node::name);
        folders.values().forEach(children -> children.sort(byName));
        this.totalBytes = nodes.values().stream().filter(n -> !n.isFolder()).mapToLong(n -> n.object().size()).sum();
    }

    private boolean add(Location base, Manifest.Entry entry) {
        String[] segments = entry.key().split("/", -1);
        for (String segment : segments) {
            if (!Namespace.isValidName(segment)) {
                return false;
            }
        }
        String folder = "/";
        for (int i = 0; i < segments.length - 1; i++) {
            String path = Namespace.child(folder, segments[i]);
            Node existing = nodes.get(path);
            if (existing == null || !existing.isFolder()) {
                if (existing != null) {
                    // "a" is a file and "a/b" needs a folder "a": the folder wins, as in a prefix mount.
                    folders.get(folder).remove(existing);
                    skippedShadowed++;
                }
                nodes.put(path, Node.folder(segments[i]));
                folders.get(folder).add(Node.folder(segments[i]));
                folders.put(path, new ArrayList<>());
            }
            folder = path;
        }
        String name = segments[segments.length - 1];
        String path = Namespace.child(folder, name);
        if (nodes.containsKey(path)) {
            return false; // a folder of that name exists: it wins, as in a prefix mount
        }
        ObjectInfo object = new ObjectInfo(base.resolve(entry.key()), entry.size(), entry.lastModified(),
                entry.etag(), entry.crc32c());
        Node node = new Node(name, object);
        nodes.put(path, node);
        folders.get(folder).add(node);
        return true;
    }

    @Override
    public Node lookup(String path) {
        return path.equals("/") ? Node.folder("") : nodes.get(path);
    }

    @Override
    public List<Node> children(String path) {
        return folders.get(path);
    }

    @Override
    public boolean immutable() {
        return true;
    }

    @Override
    public long totalBytes() {
        return totalBytes;
    }
}
