package ferry.transfer;

import ferry.store.Location;
import ferry.store.StoreException;
import ferry.store.local.FileErrors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks that object keys stay inside the local folder they are materialized in. A key is refused, by name, when
 * it is absolute, has an empty, {@code .} or {@code ..} segment, holds a NUL, or when a symbolic link is on the way
 * (out of the folder, or to elsewhere in it). Paths are compared after normalization, never as strings ({@code /data/out-evil}
 * starts with the string {@code /data/out}).
 */
public final class SafeKeys {
    private final Path root;
    private final Path realRoot;
    private final Set<Path> checkedFolders = ConcurrentHashMap.newKeySet();

    public SafeKeys(Path root) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            Path file = FileErrors.fileInTheWay(this.root);
            if (file == null) {
                throw e;
            }
            throw new StoreException(Location.of(this.root), "cannot copy into " + this.root + ": "
                    + (file.equals(this.root) ? "it" : file) + " is a file, not a folder; give a folder as the"
                    + " destination, or remove the file");
        }
        this.realRoot = this.root.toRealPath();
    }

    /** The file a key becomes under the root, or an {@link UnsafeKeyException} naming the key. */
    public Path resolve(String key) throws IOException {
        checkSyntax(key);
        Path target = root.resolve(key).normalize();
        if (!target.startsWith(root) || target.equals(root)) {
            throw new UnsafeKeyException(key, "it would land outside " + root);
        }
        Path folder = target.getParent();
        if (!checkedFolders.contains(folder)) {
            Path existing = folder;
            while (!Files.exists(existing)) {
                existing = existing.getParent();
            }
            Path real = existing.toRealPath();
            if (!real.startsWith(realRoot)) {
                throw new UnsafeKeyException(key, "a symbolic link on its way leads outside " + root + " (" + existing
                        + " is " + real + "): remove the link, or give another destination");
            }
            if (!real.equals(realRoot.resolve(root.relativize(existing)))) {
                // Even within the folder: a listing does not follow the link, so every run would write the file
                // again through it, and --delete would delete it where it really is.
                throw new UnsafeKeyException(key, "a symbolic link on its way leads elsewhere in " + root + " ("
                        + existing + " is " + real + "): remove the link, or give another destination");
            }
            if (existing.equals(folder)) {
                checkedFolders.add(folder);
            }
        }
        return target;
    }

    /** Refuses keys that no local file name can hold safely, wherever they are going. */
    public static void checkSyntax(String key) throws UnsafeKeyException {
        if (key.isEmpty()) {
            throw new UnsafeKeyException(key, "it is empty");
        }
        if (key.indexOf('\0') >= 0) {
            throw new UnsafeKeyException(key, "it contains a NUL character");
        }
        if (key.startsWith("/")) {
            throw new UnsafeKeyException(key, "it is an absolute path");
        }
        for (String segment : key.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new UnsafeKeyException(key, "it has an empty, '.' or '..' path segment");
            }
        }
    }

    /** A key that would escape its folder. */
    public static final class UnsafeKeyException extends IOException {
        public UnsafeKeyException(String key, String why) {
            super("refusing object key '" + key.replace("\0", "\\0") + "': " + why);
        }
    }
}
