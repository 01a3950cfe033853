using System.CommandLine;

namespace Actors.Hvctl;

/// <summary>
/// <c>hvctl completion bash|zsh</c>: prints a script that completes hvctl's commands, options and option values in
/// that shell. The script holds no list of commands: at each Tab it asks hvctl itself through System.CommandLine's
/// <c>[suggest:POSITION]</c> directive, so completion never falls behind the command tree. Without dotnet-suggest:
/// hvctl answers the directive on its own.
/// </summary>
internal static class CompletionCommand
{
    public static Command Build(HvctlIo io)
    {
        var shell = new Argument<string>("SHELL") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var command = new Command(
            "completion",
            "print a shell completion script: add 'source <(hvctl completion bash)' to ~/.bashrc, or 'source <(hvctl completion zsh)' to ~/.zshrc")
        { shell };
        command.SetAction(async (parsed, ct) =>
        {
            await io.Out.WriteAsync(parsed.GetRequiredValue(shell) == "zsh" ? Zsh : Bash).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }

    // COMP_LINE and COMP_POINT are the line and the cursor as bash has them; hvctl prints one candidate per line,
    // matched loosely (System.CommandLine also offers "delete" for "l"), so compgen keeps those the word starts with.
    // "-o default" falls back to file names where hvctl offers nothing (image paths).
    internal const string Bash = """
        # bash completion for hvctl: source <(hvctl completion bash)
        _hvctl_complete()
        {
            local IFS=$'\n'
            local candidates
            candidates=$("${COMP_WORDS[0]}" "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) || return 0
            COMPREPLY=($(compgen -W "${candidates}" -- "${COMP_WORDS[COMP_CWORD]}"))
        }
        complete -o default -F _hvctl_complete hvctl

        """;

    // zsh gives the words and the current one's PREFIX; the line and cursor position are rebuilt from them.
    // compadd keeps the candidates that match what is typed. compdef needs compinit, which most setups run.
    internal const string Zsh = """
        #compdef hvctl
        # zsh completion for hvctl: source <(hvctl completion zsh)
        _hvctl() {
          local line="${(j: :)words}"
          local before="${(j: :)words[1,CURRENT-1]} ${PREFIX}"
          local -a candidates
          candidates=(${(f)"$(${words[1]} "[suggest:${#before}]" "${line}" 2>/dev/null)"})
          compadd -a candidates
        }
        compdef _hvctl hvctl

        """;
}
