using System.Text;

namespace Actors.Client;

/// <summary>Plain-text tables with left-aligned columns, as <c>hvctl vm list</c> and <c>hvctl host list</c> print them.</summary>
public static class TableFormatter
{
    private const string ColumnGap = "  ";

    /// <summary>A table: the header line and one line per row, columns padded to their widest cell and two spaces apart, each line ending in '\n' without trailing blanks.</summary>
    /// <exception cref="ArgumentException">A row has another number of cells than <paramref name="headers"/>.</exception>
    public static string Format(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        List<IReadOnlyList<string>> all = [headers, .. rows];
        int columns = headers.Count;
        var widths = new int[columns];
        foreach (IReadOnlyList<string> row in all)
        {
            if (row.Count != columns)
                throw new ArgumentException($"row has {row.Count} cells, the table has {columns} columns", nameof(rows));
            for (int c = 0; c < columns; c++)
                widths[c] = Math.Max(widths[c], row[c].Length);
        }

        var text = new StringBuilder();
        foreach (IReadOnlyList<string> row in all)
        {
            var line = new StringBuilder();
            for (int c = 0; c < columns; c++)
            {
                if (c > 0) line.Append(ColumnGap);
                // The last column is not padded so lines carry no trailing blanks.
                line.Append(c == columns - 1 ? row[c] : row[c].PadRight(widths[c]));
            }

            text.Append(line.ToString().TrimEnd()).Append('\n');
        }

        return text.ToString();
    }
}
