import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.custom.CustomAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;

/**
 * Tokens of newssearch's analyzers on real Lucene, for tests/test_lucene_parity.py.
 *
 * <p>args[0] is a spec the test writes from the generated index settings, one
 * component a line, tab-separated: {@code analyzer NAME}, then {@code charfilter},
 * {@code tokenizer} and {@code filter} lines (Lucene SPI name, then key=value
 * factory arguments; files are relative to the spec's directory), then {@code end}.
 * Each stdin line is {@code ANALYZER<TAB>TEXT}; each stdout line is a JSON array of
 * [term, start, end, position increment].
 */
public final class Analyze {
  public static void main(String[] args) throws Exception {
    Map<String, Analyzer> analyzers = build(Paths.get(args[0]));
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    PrintStream out =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, "UTF-8");
    for (String line; (line = in.readLine()) != null; ) {
      int tab = line.indexOf('\t');
      Analyzer analyzer = analyzers.get(line.substring(0, tab));
      if (analyzer == null) {
        throw new IllegalArgumentException("no analyzer " + line.substring(0, tab));
      }
      out.println(tokens(analyzer, line.substring(tab + 1)));
    }
    out.flush();
  }

  static Map<String, Analyzer> build(Path spec) throws Exception {
    Map<String, Analyzer> analyzers = new HashMap<>();
    CustomAnalyzer.Builder builder = null;
    String name = null;
    for (String line : Files.readAllLines(spec, StandardCharsets.UTF_8)) {
      String[] cols = line.split("\t");
      Map<String, String> params = new HashMap<>();
      for (int i = 2; i < cols.length; i++) {
        int eq = cols[i].indexOf('=');
        params.put(cols[i].substring(0, eq), cols[i].substring(eq + 1));
      }
      switch (cols[0]) {
        case "analyzer":
          name = cols[1];
          builder = CustomAnalyzer.builder(spec.getParent());
          break;
        case "charfilter":
          builder.addCharFilter(cols[1], params);
          break;
        case "tokenizer":
          builder.withTokenizer(cols[1], params);
          break;
        case "filter":
          builder.addTokenFilter(cols[1], params);
          break;
        case "end":
          analyzers.put(name, builder.build());
          break;
        default:
          throw new IllegalArgumentException("bad spec line: " + line);
      }
    }
    return analyzers;
  }

  static String tokens(Analyzer analyzer, String text) throws Exception {
    StringBuilder json = new StringBuilder("[");
    try (TokenStream stream = analyzer.tokenStream("f", text)) {
      CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
      OffsetAttribute offset = stream.addAttribute(OffsetAttribute.class);
      PositionIncrementAttribute increment =
          stream.addAttribute(PositionIncrementAttribute.class);
      stream.reset();
      while (stream.incrementToken()) {
        json.append(json.length() > 1 ? ",[" : "[").append(quote(term.toString()))
            .append(',').append(offset.startOffset()).append(',').append(offset.endOffset())
            .append(',').append(increment.getPositionIncrement()).append(']');
      }
      stream.end();
    }
    return json.append(']').toString();
  }

  static String quote(String s) {
    StringBuilder q = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        q.append('\\').append(c);
      } else if (c < 0x20 || c > 0x7e) {
        q.append(String.format("\\u%04x", (int) c));
      } else {
        q.append(c);
      }
    }
    return q.append('"').toString();
  }
}
