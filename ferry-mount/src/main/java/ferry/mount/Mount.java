package ferry.mount;

import ferry.cache.ChunkCache;
import ferry.dataset.Manifest;
import ferry.store.Location;
import ferry.store.ObjectStore;
import ferry.store.local.FileErrors;
import ferry.store.local.RealPaths;
import ferry.time.Ticker;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.cryptomator.jfuse.api.Fuse;
import org.cryptomator.jfuse.api.FuseBuilder;
import org.cryptomator.jfuse.api.FuseMountFailedException;

/**
 * A mounted FastFile tree: {@link #prefix} or {@link #dataset} mounts, {@link #close} unmounts. A stale mount left at
 * the mount point by a killed process is cleaned up first; a live one is refused.
 */
public final class Mount implements Closeable {
    private static final System.Logger LOG = System.getLogger(Mount.class.getName());
    private static final List<String> LIBFUSE = List.of(
            "/usr/lib/x86_64-linux-gnu/libfuse3.so.3", "/usr/lib/aarch64-linux-gnu/libfuse3.so.3",
            "/lib/x86_64-linux-gnu/libfuse3.so.3", "/lib/aarch64-linux-gnu/libfuse3.so.3",
            "/usr/lib64/libfuse3.so.3", "/usr/lib/libfuse3.so.3");

    private final Path mountPoint;
    private final Fuse fuse;
    private final ChunkReader reader;
    private boolean closed;

    private Mount(Path mountPoint, Fuse fuse, ChunkReader reader) {
        this.mountPoint = mountPoint;
        this.fuse = fuse;
        this.reader = reader;
    }

    /** Mounts the objects under {@code prefix}, listed folder by folder and trusted for the metadata TTL. */
    public static Mount prefix(ObjectStore store, Location prefix, Path mountPoint, ChunkCache cache,
            MountOptions options, Map<String, String> environment) throws IOException {
        Namespace namespace = new PrefixNamespace(store, prefix, options.metadataTtl(), Ticker.SYSTEM);
        namespace.children("/"); // a missing bucket or bad credentials fail here, not as EIO later
        return mount(namespace, store, mountPoint, cache, options, environment);
    }

    /** Mounts a dataset version: its tree comes from the manifest, with no listing at all. */
    public static Mount dataset(ObjectStore store, Manifest manifest, Path mountPoint, ChunkCache cache,
            MountOptions options, Map<String, String> environment) throws IOException {
        return mount(new DatasetNamespace(manifest), store, mountPoint, cache, options, environment);
    }

    private static Mount mount(Namespace namespace, ObjectStore store, Path mountPoint, ChunkCache cache,
            MountOptions options, Map<String, String> environment) throws IOException {
        // Named as /proc/self/mountinfo shows mounts: else one reached through a link would look unmounted at once.
        Path target = RealPaths.of(mountPoint);
        cleanStaleMount(target);
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw new IOException("cannot mount at " + target + ": it is not a folder");
        }
        refuseNonEmpty(target);
        try {
            Files.createDirectories(target);
        } catch (IOException e) {
            throw new IOException("cannot create the mount point " + target + " (" + FileErrors.reason(e)
                    + "): choose a folder you can create, or create it first", e);
        }
        target = RealPaths.of(target); // folders just created on the way may have been reached through a link
        FuseBuilder builder = Fuse.builder();
        builder.setLibraryPath(libfuse(environment));
        ChunkReader reader = new ChunkReader(store, cache, options.chunkSize(), options.readAheadChunks(),
                options.readAheadFetches());
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        int gid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        Fuse fuse = builder.build(new FerryFileSystem(namespace, reader, builder.errno(), uid, gid,
                options.metadataTtl()));
        try {
            fuse.mount("ferry", target, "-o", options(namespace, options, uid == 0));
        } catch (FuseMountFailedException | RuntimeException e) {
            reader.close();
            closeQuietly(fuse);
            throw new IOException("cannot mount at " + target + ": " + e.getMessage()
                    + " (is /dev/fuse there, and are you root or in the fuse group?)", e);
        }
        return new Mount(target, fuse, reader);
    }

    /** A folder's files would be hidden for as long as the mount lasts: refused, as s3fs and rclone mount refuse it. */
    private static void refuseNonEmpty(Path target) throws IOException {
        if (!Files.isDirectory(target)) {
            return;
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(target)) {
            Iterator<Path> first = entries.iterator();
            if (first.hasNext()) {
                throw new IOException("cannot mount at " + target + ": it is not empty (it holds "
                        + first.next().getFileName() + ", which the mount would hide); choose an empty folder");
            }
        }
    }

    private static String options(Namespace namespace, MountOptions options, boolean root) {
        List<String> o = new ArrayList<>(List.of("ro", "default_permissions", "fsname=ferry", "subtype=ferry"));
        if (root) {
            o.add("allow_other"); // a training job may run as another user
        }
        if (namespace.immutable()) {
            // A dataset version never changes: the kernel keeps its pages across opens and its attributes for a day.
            o.addAll(List.of("kernel_cache", "attr_timeout=86400", "entry_timeout=86400", "negative_timeout=86400"));
        } else {
            // Pages are kept across opens only of the version they came from (FerryFileSystem.open says which), not
            // by libfuse's auto_cache, which compares sizes and times: a file replaced within the same second, or
            // within the attribute timeout, kept the old version's pages. Names and attributes live as long as
            // listings.
            double ttl = options.metadataTtl().toMillis() / 1000.0;
            o.addAll(List.of("attr_timeout=" + ttl, "entry_timeout=" + ttl, "negative_timeout=" + ttl));
        }
        return String.join(",", o);
    }

    /** Where libfuse3 is: $FERRY_LIBFUSE, else the usual places. */
    static String libfuse(Map<String, String> environment) throws IOException {
        String configured = environment.get("FERRY_LIBFUSE");
        if (configured != null && !configured.isBlank()) {
            if (!Files.isReadable(Path.of(configured))) {
                throw new IOException("FERRY_LIBFUSE is " + configured + ", which is not a readable file: set it to"
                        + " the path of libfuse3.so.3, or unset it");
            }
            return configured;
        }
        for (String candidate : LIBFUSE) {
            if (Files.isReadable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new IOException("libfuse3 is not installed: install it (Debian and Ubuntu: apt-get install fuse3;"
                + " Fedora: dnf install fuse3) or set FERRY_LIBFUSE to the path of libfuse3.so.3");
    }

    /**
     * A FUSE mount whose process died ("Transport endpoint is not connected") is unmounted; a working one is left
     * alone and refused, so two mounts never stack at one path.
     */
    static void cleanStaleMount(Path target) throws IOException {
        if (!isMountPoint(target)) {
            return;
        }
        try {
            // Opened, not stat'ed: the kernel may answer a stat of a dead mount's root from its cache.
            Files.newDirectoryStream(target).close();
        } catch (FileSystemException e) {
            if (String.valueOf(e.getReason()).contains("not connected")) {
                LOG.log(Level.WARNING, "{0} was left mounted by a process that died: unmounting it", target);
                unmount(target);
                return;
            }
            // Any other error (EIO from a mount whose store is down) comes from a process that answers: a live mount.
        }
        throw new IOException(target + " is already mounted: unmount it first (fusermount3 -u " + target + ")");
    }

    /**
     * Whether a FUSE file system is mounted at {@code target}. Other file systems mounted there (a container's volume,
     * a tmpfs) do not count: a mount goes over them, and they stay when a FUSE mount on top is unmounted.
     */
    static boolean isMountPoint(Path target) throws IOException {
        // /proc/self/mountinfo escapes spaces and the like in octal: compare in that form.
        String escaped = target.toString().replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
                .replace("\n", "\\012");
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            // id parent major:minor root mount-point options [optional fields...] - type source super-options
            String[] fields = line.split(" ");
            if (fields.length > 4 && fields[4].equals(escaped) && isFuse(fields)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isFuse(String[] fields) {
        for (int i = 6; i < fields.length - 1; i++) {
            if (fields[i].equals("-")) {
                return fields[i + 1].equals("fuse") || fields[i + 1].startsWith("fuse.");
            }
        }
        return false;
    }

    private static void unmount(Path target) throws IOException {
        for (List<String> command : List.of(List.of("fusermount3", "-u", "-z", target.toString()),
                List.of("umount", "-l", target.toString()))) {
            try {
                Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
                String output = new String(process.getInputStream().readAllBytes()).strip();
                if (process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0 && !isMountPoint(target)) {
                    return;
                }
                LOG.log(Level.DEBUG, "{0}: {1}", command, output);
            } catch (IOException e) {
                // that tool is missing: try the next
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while unmounting " + target);
            }
        }
        throw new IOException("cannot unmount the stale mount at " + target + ": run fusermount3 -u -z " + target);
    }

    public Path mountPoint() {
        return mountPoint;
    }

    /** False once unmounted, also from outside ({@code fusermount3 -u}, {@code umount}). */
    public boolean isMounted() {
        if (closed) {
            return false;
        }
        try {
            return isMountPoint(mountPoint);
        } catch (IOException e) {
            return true; // cannot tell: do not give up a mount that may still serve
        }
    }

    /** Unmounts; reads in progress fail, and nothing else is left behind. Safe to call more than once. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(fuse);
        reader.close();
    }

    private static void closeQuietly(Fuse fuse) {
        try {
            fuse.close();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "unmounting failed: {0}", e.toString());
        }
    }
}
