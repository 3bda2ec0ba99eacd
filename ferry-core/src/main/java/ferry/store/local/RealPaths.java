package ferry.store.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths as the kernel names them, for telling when two names reach the same folder. */
public final class RealPaths {
    private RealPaths() {}

    /**
     * The path absolute, with symbolic links resolved as far as it exists; the names below the deepest folder that
     * exists (or can be read: a mount whose process died cannot) are kept as given.
     */
    public static Path of(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        for (Path existing = absolute; existing != null; existing = existing.getParent()) {
            if (Files.exists(existing)) {
                try {
                    return existing.toRealPath().resolve(existing.relativize(absolute));
                } catch (IOException e) {
                    return absolute; // gone between the two looks: compared as given
                }
            }
        }
        return absolute;
    }
}
