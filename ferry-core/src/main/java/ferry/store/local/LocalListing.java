package ferry.store.local;

import ferry.store.Keys;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.PassedOver;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Walks a folder depth-first in the same order as an S3 listing: by full key, byte-wise. Sorting each folder's
 * entries with folders compared as {@code name + "/"} yields that order while holding one folder at a time.
 *
 * <p>On the way it removes the temporary files of writers that are gone, and the folders that held nothing else:
 * a write killed half way has made them for a file that never arrived.
 */
final class LocalListing implements ObjectListing {
    /** A folder's entry: {@code attributes} null for a link that leads nowhere (broken, or a loop). */
    private record Entry(String sortKey, Path path, BasicFileAttributes attributes) {}

    /**
     * One folder being walked: its identity (device and inode, to know a link that leads back into it), its entries
     * not yet reached, and whether it held an abandoned temporary file.
     */
    private static final class Level {
        final Path folder;
        final Object fileKey;
        final Deque<Entry> entries;
        boolean tidied;

        Level(Path folder, Object fileKey, Deque<Entry> entries, boolean tidied) {
            this.folder = folder;
            this.fileKey = fileKey;
            this.entries = entries;
            this.tidied = tidied;
        }
    }

    private final Location prefix;
    private final boolean followLinks;
    /** Where links must not lead when followed (a copy's destination, real path), or null. */
    private final Path fence;
    private final Deque<Level> stack = new ArrayDeque<>();
    private final String namePrefix;
    private final List<PassedOver> passedOver = new ArrayList<>();
    private ObjectInfo next;

    /**
     * @param followLinks walk into symbolic links to folders (else they are passed over)
     * @param fence with {@code followLinks}, a folder that a followed link must not lead into nor around, or null
     */
    LocalListing(Location prefix, boolean followLinks, Path fence) throws IOException {
        this.prefix = prefix;
        this.followLinks = followLinks;
        this.fence = fence == null ? null : RealPaths.of(fence);
        Path base = prefix.toPath();
        Path folder = prefix.isDirectory() ? base : base.getParent();
        this.namePrefix = prefix.isDirectory() ? "" : base.getFileName().toString();
        if (!Files.isDirectory(folder)) {
            return; // absent, or no folder: opened as one, a named pipe would wait for a writer
        }
        try {
            pushFolder(folder, Files.readAttributes(folder, BasicFileAttributes.class).fileKey(), namePrefix);
        } catch (NoSuchFileException | NotDirectoryException e) {
            // An absent folder is an empty prefix, as on S3.
        } catch (IOException e) {
            throw LocalStore.failure(prefix, "list", e);
        }
    }

    private void pushFolder(Path folder, Object fileKey, String startsWith) throws IOException {
        List<Entry> entries = new ArrayList<>();
        boolean tidied = false;
        try (DirectoryStream<Path> children = Files.newDirectoryStream(folder)) {
            for (Path child : children) {
                String name = child.getFileName().toString();
                if (name.endsWith(LocalStore.TEMP_SUFFIX)) {
                    tidied |= removeIfAbandoned(child, name);
                    continue;
                }
                if (!name.startsWith(startsWith)) {
                    continue;
                }
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(child, BasicFileAttributes.class);
                } catch (FileSystemException e) {
                    if (Files.isSymbolicLink(child)) {
                        entries.add(new Entry(name, child, null)); // broken, or a loop: passed over in its turn
                    } else if (!(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    continue; // else deleted while we listed
                }
                entries.add(new Entry(attributes.isDirectory() ? name + "/" : name, child, attributes));
            }
        }
        entries.sort((a, b) -> Keys.compare(a.sortKey, b.sortKey));
        stack.push(new Level(folder, fileKey, new ArrayDeque<>(entries), tidied));
    }

    /** Tidying only: a file that cannot be looked at or removed (a read-only source) is left for its owner. */
    static boolean removeIfAbandoned(Path temp, String name) {
        try {
            if (LocalStore.isAbandonedTemp(name, () -> Files.getLastModifiedTime(temp).toInstant(), Instant.now())) {
                return Files.deleteIfExists(temp);
            }
        } catch (IOException e) {
            // left in place; listings skip it all the same
        }
        return false;
    }

    /**
     * Leaves a walked folder: one that held an abandoned temporary file (or such a folder) and is now empty goes too,
     * never the listed folder itself. Removing a folder fails, harmlessly, once anything has been put in it.
     */
    private void leave(Level level) {
        stack.pop();
        if (!level.tidied || stack.isEmpty()) {
            return;
        }
        try {
            Files.delete(level.folder);
            stack.peek().tidied = true;
        } catch (IOException e) {
            // not empty, or not ours to remove: left as it is
        }
    }

    @Override
    public boolean hasNext() throws IOException {
        while (next == null && !stack.isEmpty()) {
            Level top = stack.peek();
            Entry entry = top.entries.poll();
            if (entry == null) {
                leave(top);
                continue;
            }
            if (entry.attributes == null) {
                passOver(entry, "a symbolic link that cannot be followed (broken, or a loop)");
            } else if (entry.attributes.isDirectory()) {
                // readAttributes followed a symbolic link, so check the entry itself.
                if (Files.isSymbolicLink(entry.path)) {
                    if (!followLinks) {
                        passOver(entry, PassedOver.FOLDER_LINK);
                        continue;
                    }
                    if (isWalking(entry.attributes.fileKey())) {
                        passOver(entry, "a symbolic link to a folder that holds it (a loop), not followed");
                        continue;
                    }
                    if (fence != null && leadsAcross(entry.path)) {
                        passOver(entry, "a symbolic link into the destination or around it, not followed (the copy"
                                + " would feed on itself)");
                        continue;
                    }
                }
                try {
                    pushFolder(entry.path, entry.attributes.fileKey(), "");
                } catch (NoSuchFileException e) {
                    // removed while we listed
                } catch (IOException e) {
                    throw LocalStore.failure(Location.of(entry.path), "list", e);
                }
            } else if (entry.attributes.isRegularFile()) {
                next = LocalStore.info(Location.of(entry.path), entry.attributes);
            } else {
                passOver(entry, LocalStore.kind(entry.path));
            }
        }
        return next != null;
    }

    private boolean leadsAcross(Path link) throws IOException {
        Path target;
        try {
            target = link.toRealPath();
        } catch (NoSuchFileException e) {
            return false; // removed since: its folder is found missing in its turn
        }
        return target.startsWith(fence) || fence.startsWith(target);
    }

    /** Whether the folder with this identity is one being walked: a link to it leads back into itself. */
    private boolean isWalking(Object fileKey) {
        for (Level level : stack) {
            if (fileKey != null && fileKey.equals(level.fileKey)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<PassedOver> passedOver() {
        return Collections.unmodifiableList(passedOver);
    }

    private void passOver(Entry entry, String what) {
        passedOver.add(new PassedOver(prefix.relativize(Location.of(entry.path)), what));
    }

    @Override
    public ObjectInfo next() throws IOException {
        if (!hasNext()) {
            throw new NoSuchElementException("no more objects under " + prefix);
        }
        ObjectInfo result = next;
        next = null;
        return result;
    }
}
