using System.Diagnostics;
using System.Reflection;
using static Actors.Client.Tests.HvctlEndToEndTests;

namespace Actors.Client.Tests;

/// <summary><c>hvctl completion</c> and <c>hvctl --version</c>, through the real hvctl process and, for completion, a real bash.</summary>
public sealed class HvctlCompletionTests
{
    [Fact]
    public async Task Suggest_directive_offers_the_subcommands_that_fit_the_word_at_the_cursor()
    {
        ProcessResult r = await HvctlAsync("[suggest:10]", "hvctl vm l");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("list", r.Out.Split('\n'));
    }

    [Fact]
    public async Task The_bash_script_is_valid_and_completes_commands_and_output_formats_through_hvctl()
    {
        ProcessResult script = await HvctlAsync("completion", "bash");
        Assert.Equal(0, script.ExitCode);
        string path = Path.Combine(Path.GetTempPath(), $"hvctl-completion-{Guid.NewGuid():N}.bash");
        await File.WriteAllTextAsync(path, script.Out);
        try
        {
            Assert.Equal((0, ""), await BashAsync("-n", path));

            // As bash calls the completion function at a Tab: the line, the cursor, the words. 'hvctl' is a function
            // here that runs the hvctl under test, as an installed hvctl would run.
            string driver = $$"""
                source '{{path}}'
                hvctl() { dotnet '{{HvctlDll()}}' "$@"; }
                complete_line() {
                    COMP_LINE="$1"; COMP_POINT=${#1}
                    read -ra COMP_WORDS <<< "$1"; [[ "$1" == *" " ]] && COMP_WORDS+=("")
                    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
                    _hvctl_complete
                    echo "${COMPREPLY[*]}"
                }
                complete_line "hvctl vm l"
                complete_line "hvctl vm list -o "
                complete_line "hvctl completion z"
                complete -p hvctl
                """;
            (int code, string output) = await BashAsync("-c", driver);
            Assert.Equal(0, code);
            Assert.Equal(["list", "json table yaml", "zsh", "complete -o default -F _hvctl_complete hvctl"], output.TrimEnd('\n').Split('\n'));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_zsh_script_asks_the_suggest_directive_and_registers_for_hvctl()
    {
        ProcessResult script = await HvctlAsync("completion", "zsh");

        Assert.Equal(0, script.ExitCode);
        Assert.StartsWith("#compdef hvctl\n", script.Out);
        Assert.Contains("\"[suggest:${#before}]\"", script.Out);
        Assert.EndsWith("compdef _hvctl hvctl\n", script.Out);
    }

    [Fact]
    public async Task An_unknown_shell_is_a_usage_error()
    {
        ProcessResult r = await HvctlAsync("completion", "fish");

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Error.Trim().Split('\n'));
        Assert.Contains("fish", r.Error);
    }

    [Fact]
    public async Task Version_is_hvctls_informational_version_in_the_process_and_in_process()
    {
        string expected = typeof(Actors.Hvctl.HvctlApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        ProcessResult r = await HvctlAsync("--version");
        InProcessHvctl.Result inProcess = await InProcessHvctl.RunAsync("--version");

        Assert.Equal((0, expected + "\n"), (r.ExitCode, r.Out));
        Assert.Matches(@"^[0-9]+\.[0-9]+\.[0-9]+", expected);
        Assert.Equal(expected + "\n", inProcess.Succeeded());
    }

    private static async Task<(int ExitCode, string Output)> BashAsync(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using Process bash = Process.Start(start)!;
        Task<string> output = bash.StandardOutput.ReadToEndAsync();
        Task<string> error = bash.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await bash.WaitForExitAsync(limit.Token);
        string all = await output + await error;
        return (bash.ExitCode, all);
    }
}
