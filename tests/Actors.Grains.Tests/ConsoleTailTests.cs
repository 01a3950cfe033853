using System.Text;
using Actors.Silo.Dashboard;
using Xunit;

namespace Actors.Grains.Tests;

/// <summary>The dashboard's console tail: the last lines a person can read, whatever the guest sent and however often.</summary>
public sealed class ConsoleTailTests
{
    [Fact]
    public void Keeps_the_last_lines_of_printable_text()
    {
        var tail = new ConsoleTail();
        Append(tail, 0, "one\r\ntwo\r\nthree\r\nfour\r\nfive\r\nsix");

        Assert.Equal("three\nfour\nfive\nsix", tail.ToString());
    }

    [Fact]
    public void Drops_terminal_escape_sequences_and_control_characters_a_shell_draws_its_prompt_with()
    {
        var tail = new ConsoleTail();
        Append(tail, 0, "\u001b[1;32m/ #\u001b[0m ls\u0007\tdone\n");

        Assert.Equal("/ # ls done", tail.ToString());
    }

    [Fact]
    public void Skips_bytes_it_has_seen_and_keeps_a_character_split_between_batches()
    {
        var tail = new ConsoleTail();
        byte[] text = Encoding.UTF8.GetBytes("pass 1 ok\nvérifié\n");
        int split = Array.IndexOf(text, (byte)0xC3) + 1; // inside 'é'
        tail.Append(0, text.AsSpan(0, split));
        tail.Append(0, text.AsSpan(0, split)); // the same batch again
        tail.Append(4, text.AsSpan(4)); // overlaps what came
        Assert.Equal("pass 1 ok\nvérifié", tail.ToString());
    }

    [Fact]
    public void Cuts_a_long_line_to_the_width_of_a_cell()
    {
        var tail = new ConsoleTail();
        Append(tail, 0, new string('x', 10_000) + "\nend");

        Assert.Equal(new string('x', ConsoleTail.Width) + "\nend", tail.ToString());
    }

    private static void Append(ConsoleTail tail, long sequence, string text) => tail.Append(sequence, Encoding.UTF8.GetBytes(text));
}
