using System.Globalization;

namespace Actors.Bench;

/// <summary>What the benchmarks that compare configurations side by side print: the command line, figures, ratios and a table of them.</summary>
internal static class BenchReport
{
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Two decimals below 10, one from there on.</summary>
    public static string Figure(double value) => value.ToString(value < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);

    public static string Ratio(double value, double reference) => (value / reference).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Columns of right-aligned cells, each as wide as its header or widest cell, two spaces apart; a header line, then one line a row.</summary>
    public static void PrintTable(IReadOnlyList<(string Header, Func<int, string> Cell)> columns, int rows)
    {
        int[] widths = [.. columns.Select(c => Enumerable.Range(0, rows).Select(i => c.Cell(i).Length).Append(c.Header.Length).Max())];
        Console.WriteLine(string.Join("  ", columns.Select((c, k) => c.Header.PadLeft(widths[k]))));
        for (int i = 0; i < rows; i++)
            Console.WriteLine(string.Join("  ", columns.Select((c, k) => c.Cell(i).PadLeft(widths[k]))));
    }

    /// <summary>This process's command line as it was typed (from /proc where there is one), so a report says how to repeat it.</summary>
    public static string CommandLine()
    {
        try
        {
            string[] args = File.ReadAllText("/proc/self/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            return string.Join(' ', args.Select(a => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@+".Contains(c)) ? a : $"'{a.Replace("'", "'\\''", StringComparison.Ordinal)}'"));
        }
        catch (IOException)
        {
            return Environment.CommandLine;
        }
    }

    public static string FirstLine(string text)
    {
        string trimmed = text.Trim();
        int newline = trimmed.IndexOf('\n');
        return newline < 0 ? trimmed : trimmed[..newline];
    }
}
