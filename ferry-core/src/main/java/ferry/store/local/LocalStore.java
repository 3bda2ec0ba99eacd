package ferry.store.local;

import ferry.store.FolderListing;
import ferry.store.Keys;
import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectInputStream;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import ferry.store.WriteOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Objects as files on a local or network file system (NFS, Lustre): a key is a relative path, a prefix ending in
 * {@code /} is a folder. Writes go to a temporary file in the destination folder, are flushed and then renamed
 * (or hard-linked, for an exclusive create), so a reader or a crash never sees half a file under its final name.
 */
public final class LocalStore implements ObjectStore {
    /**
     * Temporary files are named {@code .<name>.<pid>@<host>.<random>.ferry-tmp} (see {@link WriterMark}). Listings
     * skip them, and delete those whose writer is gone (killed half way), so a crash leaves no litter behind for long:
     * at once when the writer was a process of this host; after an hour without a change when it ran on another host
     * (a shared folder on NFS), where its process cannot be looked up.
     */
    public static final String TEMP_SUFFIX = ".ferry-tmp";

    /** The most bytes a file name may hold on the usual file systems (ext4, xfs, tmpfs, NFS). */
    static final int MAX_NAME_BYTES = 255;

    /**
     * The name of a temporary file for writing {@code target}. The target's name is shortened when needed, so that a
     * name near the file system's limit, which the final file can hold, still leaves room for the writer's mark.
     */
    static Path tempFor(Path target) {
        String mark = "." + WriterMark.writer() + "." + WriterMark.random() + TEMP_SUFFIX;
        String name = target.getFileName().toString();
        int room = MAX_NAME_BYTES - 1 - mark.length(); // the leading dot; the mark is ASCII
        if (name.getBytes(StandardCharsets.UTF_8).length > room) {
            // The encoder stops before the first character that would not fit whole.
            CharBuffer chars = CharBuffer.wrap(name);
            StandardCharsets.UTF_8.newEncoder().encode(chars, ByteBuffer.allocate(room), true);
            name = name.substring(0, chars.position());
        }
        return target.resolveSibling("." + name + mark);
    }

    /** Whether a temporary file was left by a writer that is gone; see {@link #TEMP_SUFFIX}. */
    static boolean isAbandonedTemp(String name, WriterMark.LastModified lastModified, Instant now)
            throws IOException {
        String[] parts = name.split("\\.");
        // "", name parts..., pid[@host], random, "ferry-tmp"
        return parts.length >= 5
                && WriterMark.abandoned(parts[parts.length - 3], parts[parts.length - 2], lastModified, now);
    }

    /**
     * Removes from {@code folder} (not below it) the temporary files of writers that are gone, as a listing does: for
     * a copy, which lists only its source, to clean what a killed copy left in the folders it writes.
     */
    public static void removeAbandonedTemps(Path folder) {
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(folder, "*" + TEMP_SUFFIX)) {
            for (Path temp : temps) {
                LocalListing.removeIfAbandoned(temp, temp.getFileName().toString());
            }
        } catch (IOException | DirectoryIteratorException e) {
            // tidying only: a folder not made yet, or one that cannot be read, is left as it is
        }
    }

    @Override
    public ObjectInfo stat(Location location) throws IOException {
        Path path = location.toPath();
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException | NotDirectoryException e) {
            throw new ObjectNotFoundException(location);
        } catch (IOException e) {
            throw failure(location, "stat", e);
        }
        if (!attributes.isRegularFile()) {
            throw new ObjectNotFoundException(location, "not a file: " + location);
        }
        return info(location, attributes);
    }

    /**
     * What a file that is neither a regular file nor a folder is, from its type bits, such as "a named pipe": for
     * messages about what was passed over.
     */
    public static String kind(Path file) {
        try {
            int type = (Integer) Files.getAttribute(file, "unix:mode") & 0170000;
            return switch (type) {
                case 0010000 -> "a named pipe";
                case 0140000 -> "a socket";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                default -> "not a regular file";
            };
        } catch (IOException | UnsupportedOperationException e) {
            return "not a regular file";
        }
    }

    static ObjectInfo info(Location location, BasicFileAttributes attributes) {
        long nanos = attributes.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
        String etag = Long.toHexString(nanos) + "-" + Long.toHexString(attributes.size());
        return new ObjectInfo(location, attributes.size(), attributes.lastModifiedTime().toInstant(), etag, null);
    }

    @Override
    public ObjectListing list(Location prefix) throws IOException {
        return new LocalListing(prefix, false, null);
    }

    @Override
    public ObjectListing listFollowingLinks(Location prefix, Location destination) throws IOException {
        return new LocalListing(prefix, true, destination != null && destination.isLocal() ? destination.toPath() : null);
    }

    @Override
    public FolderListing listFolder(Location folder) throws IOException {
        if (!folder.isDirectory()) {
            throw new IllegalArgumentException("not a folder (add a trailing /): " + folder);
        }
        List<ObjectInfo> objects = new ArrayList<>();
        List<String> folders = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(folder.toPath())) {
            for (Path child : children) {
                String name = child.getFileName().toString();
                if (name.endsWith(TEMP_SUFFIX)) {
                    continue;
                }
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(child, BasicFileAttributes.class);
                } catch (NoSuchFileException e) {
                    continue; // deleted while we listed
                }
                if (attributes.isDirectory() && !Files.isSymbolicLink(child)) {
                    folders.add(name);
                } else if (attributes.isRegularFile()) {
                    objects.add(info(folder.resolve(name), attributes));
                }
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            // An absent folder is empty, as on S3.
        } catch (IOException e) {
            throw failure(folder, "list", e);
        }
        objects.sort((a, b) -> Keys.compare(a.location().name(), b.location().name()));
        folders.sort(Keys::compare);
        return new FolderListing(objects, folders);
    }

    @Override
    public ObjectInputStream openStream(Location location) throws IOException {
        return openStream(location, 0, Long.MAX_VALUE);
    }

    @Override
    public ObjectInputStream openStream(Location location, long position, long length) throws IOException {
        if (position < 0 || length < 0) {
            throw new IllegalArgumentException("negative position or length for " + location);
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(location.toPath(), StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ObjectNotFoundException(location);
        } catch (IOException e) {
            throw failure(location, "open", e);
        }
        return new LocalInputStream(location, channel, position, length);
    }

    @Override
    public ObjectOutput create(Location location, WriteOptions options) throws IOException {
        return new LocalOutput(location, options, false);
    }

    @Override
    public ObjectOutput createOrOverwrite(Location location, WriteOptions options) throws IOException {
        return new LocalOutput(location, options, true);
    }

    @Override
    public void delete(Location location) throws IOException {
        try {
            Files.deleteIfExists(location.toPath());
        } catch (IOException e) {
            throw failure(location, "delete", e);
        }
    }

    @Override
    public void close() {}

    /** Turns a file-system error into one that names the location and, for the common causes, what to do. */
    static StoreException failure(Location location, String action, IOException e) {
        String reason = FileErrors.reason(e);
        if (e instanceof AccessDeniedException) {
            reason = "permission denied; check the owner and mode of " + ((AccessDeniedException) e).getFile();
        } else if (reason.contains("No space left")) {
            reason = "no space left on device; free space or choose another destination";
        }
        return new StoreException(location, "cannot " + action + " " + location + ": " + reason, e);
    }
}
