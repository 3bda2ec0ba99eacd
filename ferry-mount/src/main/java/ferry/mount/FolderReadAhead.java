package ferry.mount;

import java.io.IOException;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * File-level read-ahead: a reader that opens a folder's files in name order (a training loop over a tree, os.walk,
 * find) gets the first chunk of the next files fetched before it opens them. Files opened in any other order (a
 * shuffled epoch) fetch nothing extra.
 */
final class FolderReadAhead {
    /** How far ahead, in files, and how far a reader may skip (several workers sharing a listing) and still count. */
    private static final int AHEAD = 16;
    private static final int STRIDE = 8;
    private static final Comparator<Node> BY_NAME = Comparator.comparing(Node::name);

    private static final class Cursor {
        int last = -1;
        int fetchedThrough = -1;
    }

    private final Namespace namespace;
    private final ChunkReader reader;
    private final ConcurrentHashMap<String, Cursor> cursors = new ConcurrentHashMap<>();

    FolderReadAhead(Namespace namespace, ChunkReader reader) {
        this.namespace = namespace;
        this.reader = reader;
    }

    /** Notes that {@code path} was opened; may start fetches of the files after it. */
    void opened(String path) throws IOException {
        String folder = Namespace.parent(path);
        List<Node> children = namespace.children(folder);
        if (children == null) {
            return;
        }
        int index = Collections.binarySearch(children, Node.folder(path.substring(path.lastIndexOf('/') + 1)),
                BY_NAME);
        if (index < 0) {
            return;
        }
        Cursor cursor = cursors.computeIfAbsent(folder, f -> new Cursor());
        int from;
        int to;
        synchronized (cursor) {
            boolean inOrder = cursor.last >= 0 && index > cursor.last && index - cursor.last <= STRIDE;
            cursor.last = index;
            if (!inOrder) {
                return;
            }
            from = Math.max(index + 1, cursor.fetchedThrough + 1);
            to = Math.min(children.size() - 1, index + AHEAD);
            if (from > to) {
                return;
            }
            cursor.fetchedThrough = to;
        }
        for (int i = from; i <= to; i++) {
            Node next = children.get(i);
            if (!next.isFolder() && next.object().size() > 0
                    && !reader.prefetchStart(next.object(), Namespace.child(folder, next.name()))) {
                // Every read-ahead slot is busy: the next open in order starts again from this file.
                synchronized (cursor) {
                    cursor.fetchedThrough = Math.min(cursor.fetchedThrough, i - 1);
                }
                return;
            }
        }
    }
}
