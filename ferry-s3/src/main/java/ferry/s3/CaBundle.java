package ferry.s3;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The certificate authorities to trust instead of the defaults, from a PEM file named by {@code AWS_CA_BUNDLE} or
 * a profile's {@code ca_bundle}, as with the AWS CLI: how a store behind a private certificate authority (MinIO or
 * Ceph RGW on premises) is reached over https.
 *
 * @param file the PEM file
 * @param source where its name came from, for messages ({@code AWS_CA_BUNDLE}, or a profile's {@code ca_bundle})
 * @param certificates the certificates it holds, at least one
 */
public record CaBundle(Path file, String source, List<X509Certificate> certificates) {
    private static final char[] PASSWORD = "ferry".toCharArray(); // guards nothing: a trust store holds no secret
    private static final Object SYSTEM_PROPERTIES = new Object();

    public CaBundle {
        certificates = List.copyOf(certificates);
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException(source + " names " + file + ", which holds no certificate: set it to"
                    + " a file of \"-----BEGIN CERTIFICATE-----\" blocks");
        }
    }

    /**
     * Reads every certificate in a PEM file.
     *
     * @throws IllegalArgumentException naming {@code source} and the file, if it cannot be read or holds no
     *     certificate
     */
    public static CaBundle read(Path file, String source) {
        List<X509Certificate> certificates = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                certificates.add((X509Certificate) certificate);
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(source + " names " + file + ", which cannot be read (" + e
                    + "): set it to a PEM file of the certificate authorities to trust", e);
        } catch (CertificateException e) {
            throw new IllegalArgumentException(source + " names " + file + ", which is not a PEM file of certificates ("
                    + e.getMessage() + "): set it to a file of \"-----BEGIN CERTIFICATE-----\" blocks", e);
        }
        return new CaBundle(file, source, certificates);
    }

    /** A TLS context that trusts these certificates and no others. */
    SSLContext sslContext() {
        try {
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(keyStore());
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context from " + file + ": " + e, e);
        }
    }

    /**
     * Makes these certificates the JVM's trust store ({@code javax.net.ssl.trustStore}): the SDK's CRT HTTP client
     * takes a trust store only from those properties. The store is written once per bundle to a temporary file that
     * goes when the JVM exits.
     */
    void installAsJavaTrustStore() {
        synchronized (SYSTEM_PROPERTIES) {
            String name = "ferry-ca-" + HexFormat.of().toHexDigits(certificates.hashCode()) + "-";
            String current = System.getProperty("javax.net.ssl.trustStore");
            if (current != null && Path.of(current).getFileName().toString().startsWith(name)) {
                return;
            }
            try {
                Path store = Files.createTempFile(name, ".p12");
                store.toFile().deleteOnExit();
                try (OutputStream out = Files.newOutputStream(store)) {
                    keyStore().store(out, PASSWORD);
                }
                System.setProperty("javax.net.ssl.trustStore", store.toString());
                System.setProperty("javax.net.ssl.trustStoreType", "PKCS12");
                System.setProperty("javax.net.ssl.trustStorePassword", new String(PASSWORD));
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot write a trust store for " + file + " (" + source + "): " + e,
                        e);
            }
        }
    }

    private KeyStore keyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException("cannot make an empty key store", e);
        }
        for (int i = 0; i < certificates.size(); i++) {
            store.setCertificateEntry("ca-" + i, certificates.get(i));
        }
        return store;
    }

    @Override
    public String toString() {
        return file + " (" + source + ", " + certificates.size() + " certificates)";
    }
}
