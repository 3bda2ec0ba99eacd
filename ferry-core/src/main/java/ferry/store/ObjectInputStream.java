package ferry.store;

import java.io.IOException;
import java.io.InputStream;

/**
 * The bytes of one object as they arrive, with what the store said about the object when the read began. A copy
 * can then check the bytes against the CRC32C the object carries without asking the store a second time.
 */
public abstract class ObjectInputStream extends InputStream {
    /** The whole object being read (its full size and version, also when only a range is read). */
    public abstract ObjectInfo info() throws IOException;

    @Override
    public abstract int read(byte[] b, int off, int len) throws IOException;

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }
}
