package ferry.train.channel;

import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code DataSource.FileSystemDataSource}: a mounted file system (NFS, Lustre, EFS, a local disk) used in place.
 *
 * @param directory the absolute folder given as {@code DirectoryPath}
 * @param readWrite {@code FileSystemAccessMode} {@code rw}; otherwise the channel is read-only
 */
public record FileSystemSource(Path directory, boolean readWrite) implements ChannelSpec.Source {
    public FileSystemSource {
        Objects.requireNonNull(directory, "directory is null");
        if (!directory.isAbsolute()) {
            throw new IllegalArgumentException("FileSystem directory must be absolute: " + directory);
        }
    }
}
