package ferry.mount;

import ferry.cache.RecentMap;
import ferry.store.ChecksumMismatchException;
import ferry.store.ObjectInfo;
import ferry.store.ObjectNotFoundException;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.cryptomator.jfuse.api.DirFiller;
import org.cryptomator.jfuse.api.Errno;
import org.cryptomator.jfuse.api.FileInfo;
import org.cryptomator.jfuse.api.FuseConfig;
import org.cryptomator.jfuse.api.FuseConnInfo;
import org.cryptomator.jfuse.api.FuseOperations;
import org.cryptomator.jfuse.api.Stat;
import org.cryptomator.jfuse.api.Statvfs;

/**
 * The FUSE side of a mount: a read-only POSIX tree whose answers come from a {@link Namespace} and whose reads go
 * through a {@link ChunkReader}. Every call returns an errno rather than throw into native code: a failed read is
 * {@code EIO} with a log line naming the object, and the mount stays up.
 */
final class FerryFileSystem implements FuseOperations {
    private static final System.Logger LOG = System.getLogger(FerryFileSystem.class.getName());
    private static final int FILE_MODE = Stat.S_IFREG | 0444;
    private static final int FOLDER_MODE = Stat.S_IFDIR | 0555;

    static final int PAGE_VERSIONS = 65_536;

    private final Namespace namespace;
    private final ChunkReader reader;
    private final FolderReadAhead folderReadAhead;
    private final Errno errno;
    private final int uid;
    private final int gid;
    private final Instant mountedAt = Instant.now();
    private final ConcurrentHashMap<Long, OpenObject> open = new ConcurrentHashMap<>();
    /**
     * Of a prefix mount, the version (ETag) whose pages the kernel may hold, per path opened lately; a path not in it
     * has its pages dropped at its next open. Bounded: forgetting a path costs only a re-read.
     */
    private final RecentMap<String, String> pageVersions = new RecentMap<>(PAGE_VERSIONS);
    /** The listing each open folder reads from, taken at opendir: offsets stay valid while the folder changes. */
    private final ConcurrentHashMap<Long, List<Node>> openFolders = new ConcurrentHashMap<>();
    private final AtomicLong handles = new AtomicLong();
    /**
     * What the kernel was last told of each file, while it may still hold it (the metadata TTL, its attribute
     * timeout); {@code null} where it holds nothing for long (a dataset never changes; a TTL of zero keeps nothing).
     * The kernel ends a file at the size it holds: an object replaced by one of another size, opened before those
     * attributes expire, would be read cut short or padded with zeros. Such an open reads the version whose size the
     * kernel holds, from the cache, or fails; never another version's bytes. Kept for the files described last.
     */
    private final RecentMap<String, Described> described;
    private final long attributeNanos;

    /** A file's version handed to the kernel, and when. */
    private record Described(ObjectInfo object, long nanos) {}

    static final int DESCRIBED_FILES = 65_536;

    FerryFileSystem(Namespace namespace, ChunkReader reader, Errno errno, int uid, int gid, Duration metadataTtl) {
        this.namespace = namespace;
        boolean kept = !namespace.immutable() && metadataTtl.isPositive();
        this.described = kept ? new RecentMap<>(DESCRIBED_FILES) : null;
        this.attributeNanos = metadataTtl.toNanos();
        this.reader = reader;
        this.folderReadAhead = new FolderReadAhead(namespace, reader);
        this.errno = errno;
        this.uid = uid;
        this.gid = gid;
    }

    @Override
    public Errno errno() {
        return errno;
    }

    @Override
    public Set<Operation> supportedOperations() {
        return EnumSet.of(Operation.INIT, Operation.GET_ATTR, Operation.OPEN_DIR, Operation.READ_DIR,
                Operation.RELEASE_DIR, Operation.OPEN, Operation.READ, Operation.RELEASE, Operation.STATFS,
                Operation.ACCESS, Operation.CREATE, Operation.WRITE, Operation.MKDIR, Operation.RMDIR,
                Operation.UNLINK, Operation.RENAME, Operation.TRUNCATE, Operation.CHMOD, Operation.CHOWN,
                Operation.UTIMENS, Operation.SYMLINK, Operation.SET_XATTR, Operation.REMOVE_XATTR);
    }

    @Override
    public void init(FuseConnInfo conn, FuseConfig config) {
        if ((conn.capable() & FuseConnInfo.FUSE_CAP_READDIRPLUS) != 0) {
            // ls -l gets every child's attributes with the listing instead of one lookup per file; always, not
            // only when the kernel guesses that the reader will stat (READDIRPLUS_AUTO)
            conn.setWant((conn.want() | FuseConnInfo.FUSE_CAP_READDIRPLUS) & ~FuseConnInfo.FUSE_CAP_READDIRPLUS_AUTO);
        }
    }

    @Override
    public int getattr(String path, Stat stat, FileInfo fi) {
        try {
            OpenObject file = fi == null ? null : open.get(fi.getFh());
            if (file != null) {
                Node version = new Node(path, file.object); // an open file is the version it reads
                fill(stat, version);
                describe(path, version); // fstat's answer reaches the kernel too
                return 0;
            }
            Node node = namespace.lookup(path);
            if (node == null) {
                return -errno.enoent();
            }
            fill(stat, node);
            describe(path, node);
            return 0;
        } catch (IOException | RuntimeException | Error e) {
            return failed("stat", path, e);
        }
    }

    /** Records what the kernel was told of a file; see {@link #described}. */
    private void describe(String path, Node node) {
        if (described != null && !node.isFolder()) {
            described.merge(path, new Described(node.object(), System.nanoTime()), (old, now) -> now);
        }
    }

    private void fill(Stat stat, Node node) {
        stat.setUid(uid);
        stat.setGid(gid);
        if (node.isFolder()) {
            stat.setMode(FOLDER_MODE);
            stat.setNLink((short) 2);
            stat.setSize(4096);
            stat.mTime().set(mountedAt);
            stat.cTime().set(mountedAt);
            stat.aTime().set(mountedAt);
        } else {
            Instant modified = namespace.immutable() ? node.object().lastModified()
                    : versionedTime(node.object().lastModified(), node.object().etag());
            stat.setMode(FILE_MODE);
            stat.setNLink((short) 1);
            stat.setSize(node.object().size());
            StatBlocks.set(stat, (node.object().size() + 511) / 512);
            stat.mTime().set(modified);
            stat.cTime().set(modified);
            stat.aTime().set(modified);
        }
    }

    /**
     * A prefix mount's file time: the object's time to the millisecond, its sub-millisecond digits taken from the
     * ETag. libfuse's {@code auto_cache} and the kernel keep a file's pages while its size and time stay the same, and
     * S3 gives times to the second: an object replaced by another of the same size within that second would else be
     * read partly from the old version's pages.
     */
    static Instant versionedTime(Instant modified, String etag) {
        return Instant.ofEpochMilli(modified.toEpochMilli()).plusNanos(Math.floorMod(etag.hashCode(), 1_000_000));
    }

    @Override
    public int access(String path, int mask) {
        if ((mask & 2) != 0) { // W_OK
            return -errno.erofs();
        }
        try {
            return namespace.lookup(path) == null ? -errno.enoent() : 0;
        } catch (IOException | RuntimeException | Error e) {
            return failed("stat", path, e);
        }
    }

    @Override
    public int opendir(String path, FileInfo fi) {
        try {
            List<Node> children = namespace.children(path);
            if (children == null) {
                return -errno.enotdir();
            }
            long handle = handles.incrementAndGet();
            openFolders.put(handle, children);
            fi.setFh(handle);
            return 0;
        } catch (IOException | RuntimeException | Error e) {
            return failed("list", path, e);
        }
    }

    @Override
    public int readdir(String path, DirFiller filler, long offset, FileInfo fi, int flags) {
        try {
            // A listing read in several calls must not change between them (a prefix mount lists the folder again
            // once its TTL is over): entries would be listed twice or not at all.
            List<Node> children = fi == null ? null : openFolders.get(fi.getFh());
            if (children == null) {
                children = namespace.children(path);
            }
            if (children == null) {
                return -errno.enotdir();
            }
            boolean plus = (flags & FUSE_READDIR_PLUS) != 0;
            int fillFlags = plus ? DirFiller.FUSE_FILL_DIR_PLUS : 0;
            // Each entry carries the offset of the next, so libfuse hands entries (and their attributes, for
            // readdirplus) to the kernel as they come and asks again from an offset when its buffer is full.
            if (offset < 1 && filler.fill(".", stat -> {}, 1, 0) != 0) {
                return 0;
            }
            if (offset < 2 && filler.fill("..", stat -> {}, 2, 0) != 0) {
                return 0;
            }
            for (int i = (int) Math.max(0, offset - 2); i < children.size(); i++) {
                Node child = children.get(i);
                if (filler.fill(child.name(), plus ? stat -> fill(stat, child) : stat -> {}, i + 3, fillFlags) != 0) {
                    return 0; // the buffer is full: the kernel asks again from this entry's offset
                }
                if (plus) {
                    describe(Namespace.child(path, child.name()), child);
                }
            }
            return 0;
        } catch (IOException | RuntimeException | Error e) {
            return failed("list", path, e);
        }
    }

    @Override
    public int releasedir(String path, FileInfo fi) {
        openFolders.remove(fi.getFh());
        return 0;
    }

    @Override
    public int open(String path, FileInfo fi) {
        Set<StandardOpenOption> flags = fi.getOpenFlags();
        if (flags.contains(StandardOpenOption.WRITE) || flags.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
            return -errno.erofs();
        }
        try {
            Node node = namespace.lookup(path);
            if (node == null) {
                return -errno.enoent();
            }
            if (node.isFolder()) {
                return -errno.eisdir();
            }
            ObjectInfo object = node.object();
            Described told = described == null ? null : described.get(path);
            if (told != null && told.object().size() != object.size()
                    && System.nanoTime() - told.nanos() < attributeNanos) {
                object = told.object(); // the kernel holds this version's size until its attributes expire
            }
            if (!namespace.immutable()) {
                if (anotherVersionOpen(path, object)) {
                    if (!OpenFlags.directIo(fi)) {
                        return failed("open", path, new IOException("another version of it is open, and this jfuse"
                                + " cannot keep their pages apart"));
                    }
                } else if (object.etag().equals(pageVersions.put(path, object.etag()))) {
                    // The kernel's pages, if it still has any, are of this version: keep them. Otherwise it drops
                    // them at this open, so a replaced file is never read partly from the old version's pages.
                    OpenFlags.keepCache(fi);
                }
            }
            long handle = handles.incrementAndGet();
            open.put(handle, reader.open(object, path));
            fi.setFh(handle);
            try {
                folderReadAhead.opened(path);
            } catch (IOException | RuntimeException | Error e) {
                // Fetching the next files is a guess; its failure (a folder that cannot be listed now) is not the
                // open's, which has succeeded and must be released.
                LOG.log(Level.DEBUG, "no read-ahead after opening {0}: {1}", path, e.toString());
            }
            return 0;
        } catch (IOException | RuntimeException | Error e) {
            return failed("open", path, e);
        }
    }

    /**
     * Whether another open file of this path reads another version. The kernel keeps one page cache per path, so each
     * would be handed the other's pages: this one then reads around it, with direct I/O.
     */
    private boolean anotherVersionOpen(String path, ObjectInfo object) {
        for (OpenObject other : open.values()) {
            if (other.path.equals(path) && !other.object.etag().equals(object.etag())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public int read(String path, ByteBuffer buf, long count, long offset, FileInfo fi) {
        OpenObject file = open.get(fi.getFh());
        if (file == null) {
            return -errno.ebadf();
        }
        try {
            return reader.read(file, buf, offset);
        } catch (ObjectChangedException e) {
            namespace.changed(path);
            LOG.log(Level.ERROR, namespace.immutable() ? e.inDatasetVersion() : e.getMessage());
            return -errno.eio();
        } catch (IOException | RuntimeException | Error e) {
            return failed("read", path, e);
        }
    }

    @Override
    public int release(String path, FileInfo fi) {
        OpenObject file = open.remove(fi.getFh());
        if (file != null) {
            reader.closed(file);
        }
        return 0;
    }

    @Override
    public int statfs(String path, Statvfs statvfs) {
        statvfs.setBsize(4096);
        statvfs.setFrsize(4096);
        statvfs.setBlocks((namespace.totalBytes() + 4095) / 4096);
        statvfs.setBfree(0);
        statvfs.setBavail(0);
        statvfs.setNameMax(255);
        return 0;
    }

    /** Logs a failure with the path and the object, and answers EIO (ENOENT for an object gone from the store). */
    private int failed(String action, String path, Throwable e) {
        if (e instanceof ObjectNotFoundException) {
            LOG.log(Level.WARNING, "cannot {0} {1}: {2}", action, path, e.getMessage());
            return -errno.enoent();
        }
        if (e instanceof RuntimeException || e instanceof Error) {
            // A bug, or out of memory: keep the stack trace. Thrown into native code, it would end the process and
            // leave the mount point broken.
            LOG.log(Level.ERROR, "cannot " + action + " " + path, e);
        } else if (!(e instanceof ChecksumMismatchException) && !(e instanceof ObjectChangedException)) {
            LOG.log(Level.WARNING, "cannot {0} {1}: {2}", action, path, e.getMessage());
        }
        return -errno.eio();
    }

    // A read-only file system: every change is refused with EROFS.

    @Override
    public int create(String path, int mode, FileInfo fi) {
        return -errno.erofs();
    }

    @Override
    public int write(String path, ByteBuffer buf, long count, long offset, FileInfo fi) {
        return -errno.erofs();
    }

    @Override
    public int mkdir(String path, int mode) {
        return -errno.erofs();
    }

    @Override
    public int rmdir(String path) {
        return -errno.erofs();
    }

    @Override
    public int unlink(String path) {
        return -errno.erofs();
    }

    @Override
    public int rename(String oldPath, String newPath, int flags) {
        return -errno.erofs();
    }

    @Override
    public int truncate(String path, long size, FileInfo fi) {
        return -errno.erofs();
    }

    @Override
    public int chmod(String path, int mode, FileInfo fi) {
        return -errno.erofs();
    }

    @Override
    public int chown(String path, int uid, int gid, FileInfo fi) {
        return -errno.erofs();
    }

    @Override
    public int utimens(String path, org.cryptomator.jfuse.api.TimeSpec atime, org.cryptomator.jfuse.api.TimeSpec mtime,
            FileInfo fi) {
        return -errno.erofs();
    }

    @Override
    public int symlink(String target, String linkName) {
        return -errno.erofs();
    }

    @Override
    public int setxattr(String path, String name, ByteBuffer value, int flags) {
        return -errno.erofs();
    }

    @Override
    public int removexattr(String path, String name) {
        return -errno.erofs();
    }
}
