package dev.consort.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/** The two archive formats a model folder is downloaded in, each written as a stream (weights are never held). */
enum FolderArchive {
    TAR_GZ("tar.gz", "application/gzip"),
    ZIP("zip", "application/zip");

    private final String extension;
    private final String mediaType;

    FolderArchive(String extension, String mediaType) {
        this.extension = extension;
        this.mediaType = mediaType;
    }

    String extension() {
        return extension;
    }

    String mediaType() {
        return mediaType;
    }

    /** {@code tar.gz} (or {@code tgz}) or {@code zip}; null for anything else. */
    static FolderArchive named(String format) {
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "tar.gz", "tgz" -> TAR_GZ;
            case "zip" -> ZIP;
            default -> null;
        };
    }

    /** Writes {@code entries} under the directory {@code folder}/ of the archive. */
    void write(String folder, List<FolderEntry> entries, OutputStream out) throws IOException {
        if (this == ZIP) {
            try (ZipOutputStream zip = new ZipOutputStream(out)) {
                for (FolderEntry entry : entries) {
                    zip.putNextEntry(new ZipEntry(folder + "/" + entry.name()));
                    copy(entry, zip);
                    zip.closeEntry();
                }
            }
            return;
        }
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(out))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (FolderEntry entry : entries) {
                TarArchiveEntry header = new TarArchiveEntry(folder + "/" + entry.name());
                header.setSize(entry.size());
                tar.putArchiveEntry(header);
                copy(entry, tar);
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
    }

    private static void copy(FolderEntry entry, OutputStream out) throws IOException {
        try (InputStream in = entry.content().open()) {
            long copied = in.transferTo(out);
            if (copied != entry.size()) {
                throw new IOException(entry.name() + " has " + copied + " bytes, not the " + entry.size() + " announced");
            }
        }
    }
}
