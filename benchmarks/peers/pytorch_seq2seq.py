"""Peer: the PyTorch tutorial's translator ("NLP From Scratch: Translation with a Sequence to
Sequence Network and Attention", pytorch.org/tutorials/intermediate/seq2seq_translation_tutorial),
what most people start from. Written the way the tutorial writes it: a GRU encoder (hidden 128),
a GRU decoder with Bahdanau attention, word vocabularies, batches of 32 padded to MAX_LENGTH,
teacher forcing on every step, NLLLoss over every position, Adam at 1e-3, greedy decoding.

Two deviations, so that it can be scored on the same references as rnnlab: the tutorial's
``normalizeString`` folds accents to ASCII and deletes digits (French without accents would
lose BLEU for a reason that has nothing to do with the model), so here it keeps letters with
their accents, digits and apostrophes; and MAX_LENGTH is the longest training sentence (in
tokens, plus <EOS>) instead of 10 words, because the split it trains on is rnnlab's.

    python benchmarks/peers/pytorch_seq2seq.py --train train.json --test test.json \
        --seconds 600 --out peer.json
"""

from __future__ import annotations

import argparse
import json
import re
import time
import unicodedata

import torch
import torch.nn.functional as F
from torch import nn

SOS_token, EOS_token = 0, 1
hidden_size, batch_size, lr = 128, 32, 0.001


def normalizeString(s: str) -> str:
    s = unicodedata.normalize("NFC", s.lower().strip()).replace("’", "'")
    s = re.sub(r"([.!?,])", r" \1", s)
    return re.sub(r"[^\w'.!?,]+", " ", s).strip()


class Lang:
    def __init__(self):
        self.word2index: dict[str, int] = {}
        self.index2word = {0: "SOS", 1: "EOS"}

    def addSentence(self, sentence: str) -> None:
        for word in sentence.split(" "):
            if word not in self.word2index:
                self.word2index[word] = len(self.index2word)
                self.index2word[len(self.index2word)] = word

    @property
    def n_words(self) -> int:
        return len(self.index2word)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        return self.gru(embedded)


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super().__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        weights = F.softmax(scores.squeeze(2).unsqueeze(1), dim=-1)
        return torch.bmm(weights, keys), weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, max_length, dropout_p=0.1):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)
        self.max_length = max_length

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        B = encoder_outputs.size(0)
        decoder_input = torch.full((B, 1), SOS_token, dtype=torch.long)
        decoder_hidden, decoder_outputs = encoder_hidden, []
        for i in range(self.max_length):
            decoder_output, decoder_hidden = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)  # teacher forcing
            else:
                decoder_input = decoder_output.topk(1)[1].squeeze(-1).detach()
        return F.log_softmax(torch.cat(decoder_outputs, dim=1), dim=-1)

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        context, _ = self.attention(hidden.permute(1, 0, 2), encoder_outputs)
        output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
        return self.out(output), hidden


def tensors(pairs, in_lang, out_lang, max_length):
    n = len(pairs)
    inp = torch.zeros(n, max_length, dtype=torch.long)
    tgt = torch.zeros(n, max_length, dtype=torch.long)
    for k, (s, t) in enumerate(pairs):
        a = [in_lang.word2index[w] for w in s.split(" ")][: max_length - 1] + [EOS_token]
        b = [out_lang.word2index[w] for w in t.split(" ")][: max_length - 1] + [EOS_token]
        inp[k, : len(a)], tgt[k, : len(b)] = torch.tensor(a), torch.tensor(b)
    return inp, tgt


def train(pairs, seconds: float, seed: int = 0):
    torch.manual_seed(seed)
    pairs = [(normalizeString(s), normalizeString(t)) for s, t in pairs]
    in_lang, out_lang = Lang(), Lang()
    for s, t in pairs:
        in_lang.addSentence(s)
        out_lang.addSentence(t)
    max_length = max(len(x.split(" ")) for p in pairs for x in p) + 1
    inp, tgt = tensors(pairs, in_lang, out_lang, max_length)
    encoder = EncoderRNN(in_lang.n_words, hidden_size)
    decoder = AttnDecoderRNN(hidden_size, out_lang.n_words, max_length)
    enc_opt = torch.optim.Adam(encoder.parameters(), lr=lr)
    dec_opt = torch.optim.Adam(decoder.parameters(), lr=lr)
    criterion = nn.NLLLoss()
    t0, steps, epochs = time.monotonic(), 0, 0
    while time.monotonic() - t0 < seconds:
        for idx in torch.randperm(len(pairs)).split(batch_size):  # RandomSampler
            enc_opt.zero_grad()
            dec_opt.zero_grad()
            encoder_outputs, encoder_hidden = encoder(inp[idx])
            out = decoder(encoder_outputs, encoder_hidden, tgt[idx])
            loss = criterion(out.view(-1, out.size(-1)), tgt[idx].view(-1))
            loss.backward()
            enc_opt.step()
            dec_opt.step()
            steps += 1
            if time.monotonic() - t0 >= seconds:
                break
        epochs += 1
    return (encoder, decoder, in_lang, out_lang), {"steps": steps, "epochs": epochs}


@torch.no_grad()
def translate(model, sentences: list[str]) -> list[str]:
    encoder, decoder, in_lang, out_lang = model
    encoder.eval()
    decoder.eval()
    out = []
    for s in sentences:
        words = [w for w in normalizeString(s).split(" ") if w in in_lang.word2index]
        ids = [in_lang.word2index[w] for w in words][: decoder.max_length - 1] + [EOS_token]
        enc_out, enc_hidden = encoder(torch.tensor([ids]))
        best = decoder(enc_out, enc_hidden).argmax(-1)[0].tolist()
        toks = []
        for i in best:
            if i == EOS_token:
                break
            toks.append(out_lang.index2word[i])
        out.append(re.sub(r" ([.!?,])", r"\1", " ".join(toks)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", required=True, help="JSON list of [source, target] pairs")
    ap.add_argument("--test", required=True, help="JSON list of source sentences")
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    with open(a.train) as f:
        pairs = json.load(f)
    with open(a.test) as f:
        test = json.load(f)
    model, info = train(pairs, a.seconds, a.seed)
    t0 = time.monotonic()
    hyps = translate(model, test)
    info["decode_sentences_per_s"] = round(len(test) / (time.monotonic() - t0), 1)
    with open(a.out, "w") as f:
        json.dump({**info, "hyps": hyps}, f)


if __name__ == "__main__":
    main()
