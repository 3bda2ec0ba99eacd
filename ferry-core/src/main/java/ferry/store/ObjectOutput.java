package ferry.store;

import java.io.IOException;
import java.io.OutputStream;

/**
 * The bytes of a new object. Nothing is visible under the final location until {@link #commit()} succeeds;
 * {@link #close()} without a commit abandons the write and cleans up (a temporary file, a multipart upload).
 * So an exception in the middle of writing, inside try-with-resources, never leaves half an object behind.
 */
public abstract class ObjectOutput extends OutputStream {
    /**
     * Makes the object visible under its location, all at once.
     *
     * @return the stored object, with the CRC32C of the bytes written
     * @throws ObjectExistsException if this output came from {@code create} and the object already exists
     * @throws ChecksumMismatchException if the bytes do not match the CRC32C the writer announced
     */
    public abstract ObjectInfo commit() throws IOException;

    /** Abandons the write unless it was committed. Never throws for a committed or abandoned output. */
    @Override
    public abstract void close() throws IOException;
}
