from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.shortcuts import redirect, render

from .models import Note


def index(request):
    if request.method == "POST":
        note = Note.objects.create(text=request.POST["text"])
        default_storage.save(f"notes/{note.pk}.txt", ContentFile(note.text.encode()))
        return redirect("index")
    notes = Note.objects.order_by("pk")
    return render(request, "notes/index.html", {"notes": notes, "secure": request.is_secure()})
