package io.loraspace.jobs.output;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.loraspace.common.error.StateException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The publish journal {@code .<name>.loraspace-journal} next to an output: written before the first change to the
 * output location and deleted after the last, it tells a later run how to undo an interrupted publish.
 *
 * <p>Phases: {@link Phase#ASIDE} while the previous output moves to the backup directory (the output holds some old
 * files, the backup the others); {@link Phase#IN} while the new output moves in (the backup holds every old file, the
 * output only new ones). The journal is one small object written whole (a single PUT on object stores).
 */
final class PublishJournal {
  static final String FORMAT = "loraspace-publish-journal";

  enum Phase {
    ASIDE, IN
  }

  /** What the output location held before the publish. */
  enum Previous {
    NONE, INCOMPLETE, COMPLETE
  }

  final String runId;
  final Path staging;
  final Path backup;
  final Previous previous;
  Phase phase;

  PublishJournal(String runId, Path staging, Path backup, Previous previous, Phase phase) {
    this.runId = runId;
    this.staging = staging;
    this.backup = backup;
    this.previous = previous;
    this.phase = phase;
  }

  static Path fileOf(Path output) {
    return new Path(output.getParent(), "." + output.getName() + ".loraspace-journal");
  }

  void write(FileSystem fs, Path output) throws IOException {
    ObjectNode n = Manifest.JSON.createObjectNode();
    n.put("format", FORMAT).put("runId", runId).put("staging", staging.toString()).put("backup", backup.toString())
        .put("previous", previous.name()).put("phase", phase.name());
    try (OutputStream out = fs.create(fileOf(output), true)) {
      out.write(Manifest.JSON.writeValueAsBytes(n));
    }
  }

  /** The journal of {@code output}, or null when there is none. */
  static PublishJournal read(FileSystem fs, Path output) throws IOException {
    Path file = fileOf(output);
    byte[] bytes;
    try (InputStream in = fs.open(file)) {
      bytes = in.readAllBytes();
    } catch (java.io.FileNotFoundException e) {
      return null;
    }
    JsonNode n;
    try {
      n = Manifest.JSON.readTree(bytes);
    } catch (IOException e) {
      throw new StateException("Publish journal '" + file + "' is not valid JSON (" + e.getMessage() + "); it was "
          + "written by an interrupted run: inspect " + output + " and its hidden siblings, then delete it");
    }
    if (n == null || !FORMAT.equals(n.path("format").asText())) {
      throw new StateException("Publish journal '" + file + "' has format '" + (n == null ? "" : n.path("format")
          .asText()) + "', expected '" + FORMAT + "'");
    }
    try {
      return new PublishJournal(n.path("runId").asText(), new Path(n.path("staging").asText()),
          new Path(n.path("backup").asText()), Previous.valueOf(n.path("previous").asText()),
          Phase.valueOf(n.path("phase").asText()));
    } catch (IllegalArgumentException e) {
      throw new StateException("Publish journal '" + file + "' is malformed: " + e.getMessage());
    }
  }

  static void delete(FileSystem fs, Path output) throws IOException {
    fs.delete(fileOf(output), false);
  }
}
