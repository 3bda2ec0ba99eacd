package ferry.store.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The temporary files this process is writing, so that a command stopped by a signal (Ctrl-C, SIGTERM) can delete
 * them on its way out ({@link #stop}) and leave no hidden half-files behind. A kill -9 runs no code; its files are
 * recognized by their dead writer's mark and deleted by the next run that lists the folder.
 */
public final class OpenTemps {
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
    private static volatile boolean stopping;

    private OpenTemps() {}

    /** Records a temporary file just created; if the process is already stopping, deletes it and says so. */
    static void opened(Path temp) throws IOException {
        OPEN.add(temp);
        if (stopping) {
            closed(temp);
            Files.deleteIfExists(temp);
            throw new IOException("stopping: " + temp + " not written");
        }
    }

    /** The file was renamed into place or deleted: nothing left to clean. */
    static void closed(Path temp) {
        OPEN.remove(temp);
    }

    /**
     * Deletes the temporary files being written and refuses new ones, for a process on its way out: a writer still at
     * work fails its rename, which no one waits for any more. Only for a process whose other shutdown work writes no
     * local files (a training job's runner uploads its model then).
     */
    public static void stop() {
        stopping = true;
        for (Path temp : OPEN) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                // the next run deletes it: its writer's mark names a process that is gone
            }
        }
    }
}
