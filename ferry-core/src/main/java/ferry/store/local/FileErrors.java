package ferry.store.local;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/** Why a file operation failed, in words: the JDK's exceptions for the common failures carry only the path. */
public final class FileErrors {
    private FileErrors() {}

    /** The reason, after the file it is about: "/x: no such file or folder", "/x: No space left on device". */
    public static String reason(IOException e) {
        if (!(e instanceof FileSystemException failed)) {
            return e.getMessage() != null ? e.getMessage() : e.toString();
        }
        String file = failed.getFile();
        if (failed.getReason() != null) {
            return file == null ? failed.getReason() : file + ": " + failed.getReason();
        }
        return file + ": " + switch (failed) {
            case NoSuchFileException missing -> "no such file or folder";
            case AccessDeniedException denied -> "permission denied";
            case FileAlreadyExistsException exists -> "already exists";
            case NotDirectoryException notFolder -> "not a folder";
            case DirectoryNotEmptyException notEmpty -> "folder not empty";
            default -> failed.getClass().getSimpleName();
        };
    }

    /** The first path on the way to {@code path} that exists but is not a folder, or null. */
    public static Path fileInTheWay(Path path) {
        Path absolute = path.toAbsolutePath();
        Path current = absolute.getRoot();
        for (Path name : absolute) {
            current = current.resolve(name);
            if (Files.exists(current) && !Files.isDirectory(current)) {
                return current.equals(path.toAbsolutePath()) ? path : current;
            }
        }
        return null;
    }
}
